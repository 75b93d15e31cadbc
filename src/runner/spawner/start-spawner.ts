import { fork, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { join } from 'node:path';

/** How a program is started: its environment (all of it), folder and which of its fds are pipes. */
export interface SpawnOptions {
  env: Record<string, string>;
  cwd?: string;
  /** fd by fd: `'pipe'` (a socket the caller reads or writes) or `'ignore'` (/dev/null). */
  stdio: Array<'pipe' | 'ignore'>;
}

/**
 * A started program, shaped like the parts of `ChildProcess` pushci uses: `stdio[fd]` for each pipe,
 * `'exit'` (code, signal), `'close'` once it exited and its pipes ended, `'error'` when it could not
 * start (then neither of the others), `kill(signal)`.
 */
export interface Spawned extends EventEmitter {
  readonly pid: number;
  readonly stdio: Array<Socket | null>;
  readonly stdin: Socket | null;
  readonly stdout: Socket | null;
  readonly stderr: Socket | null;
  kill(signal?: NodeJS.Signals): boolean;
  /** From now on the program (a helper that lives as long as the worker) does not keep the worker alive. */
  unref(): void;
  /** It keeps the worker alive again (after `unref`: a standby kept between jobs, taken by a job). */
  ref(): void;
}

/** Starts a program; resolves once it runs and its pipes are here. */
export type SpawnFn = (cmd: string, args: string[], opts: SpawnOptions) => Promise<Spawned>;

class Proc extends EventEmitter implements Spawned {
  pid = 0;
  stdio: Array<Socket | null>;
  /** False after `unref`: the spawner's channel is not kept open for it. */
  keepsAlive = true;
  private exited = false;
  private open = 0;
  private readonly killer: (signal: NodeJS.Signals) => void;
  constructor(n: number, killer: (signal: NodeJS.Signals) => void) {
    super();
    this.killer = killer;
    this.stdio = Array.from({ length: n }, () => null);
  }
  get stdin() {
    return this.stdio[0] ?? null;
  }
  get stdout() {
    return this.stdio[1] ?? null;
  }
  get stderr() {
    return this.stdio[2] ?? null;
  }
  kill(signal: NodeJS.Signals = 'SIGTERM') {
    if (this.exited) return false;
    this.killer(signal);
    return true;
  }
  unref() {
    this.keepsAlive = false;
    for (const s of this.stdio) s?.unref();
    this.emit('unref');
  }
  ref() {
    this.keepsAlive = true;
    for (const s of this.stdio) s?.ref();
    this.emit('ref');
  }
  attach(fd: number, sock: Socket) {
    if (!this.keepsAlive) sock.unref();
    this.stdio[fd] = sock;
    this.open++;
    sock.once('close', () => {
      this.open--;
      this.maybeClose();
    });
  }
  exit(code: number | null, signal: NodeJS.Signals | null) {
    this.exited = true;
    // On a later turn: the exit message may come right behind the last pipe, before the caller that
    // awaited the start had a chance to listen.
    setImmediate(() => {
      this.emit('exit', code, signal);
      // As child_process does on exit: a pipe nobody reads is drained, so it ends and 'close' comes.
      for (const s of this.stdio)
        if (s?.readable && s.listenerCount('data') + s.listenerCount('readable') === 0) s.resume();
      this.maybeClose();
    });
  }
  private maybeClose() {
    if (this.exited && this.open === 0) {
      this.open = -1;
      this.emit('close');
    }
  }
}

/** What a program that could not start looks like: `'error'` on the next turn, nothing else. */
function failed(n: number, message: string): Spawned {
  const p = new Proc(n, () => {});
  setImmediate(() => p.emit('error', new Error(message)));
  return p;
}

/**
 * Starts the spawner (spawner-main.mjs, one small Node process for the whole worker) and returns the
 * function that starts programs through it. It is started on the first call, and again after it died;
 * its own environment is `env` (PATH), nothing of the worker's; each program gets the one it is given.
 */
export function startSpawner(env: Record<string, string>): SpawnFn & { close(): void } {
  let proc: ChildProcess | null = null;
  let next = 1;
  const pending = new Map<number, { p: Proc; want: number; resolve: (p: Spawned) => void }>();
  const running = new Map<number, Proc>();
  /** Programs the worker waits for (all but those `unref`ed). */
  const watched = () => pending.size + [...running.values()].filter((p) => p.keepsAlive).length;
  const idle = () =>
    setImmediate(() => {
      if (watched() === 0) proc?.channel?.unref();
    });
  const up = () => {
    if (proc) return proc;
    const c = fork(join(import.meta.dirname, 'spawner-main.mjs'), [], {
      env,
      // Each fork copies the spawner's page tables, and each page it writes afterwards faults once:
      // a small young generation and no helper threads keep both small (see spawner-main.mjs).
      execArgv: ['--max-semi-space-size=1', '--single-threaded'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
      // A session of its own: Ctrl-C in the worker's terminal (SIGINT to its process group), or `kill
      // -TERM -<group>`, is for the worker, which lets running jobs finish; it must not reach the
      // programs of those jobs (the spawner's default on SIGINT is to die, and its sandboxes with it).
      detached: true,
    });
    c.on(
      'message',
      (
        m: {
          id: number;
          pid?: number;
          fd?: number;
          exit?: number | null;
          signal?: NodeJS.Signals | null;
          error?: string;
        },
        handle?: Socket,
      ) => {
        const wait = pending.get(m.id);
        if (m.error !== undefined) {
          pending.delete(m.id);
          wait?.resolve(failed(wait.p.stdio.length, m.error));
          return;
        }
        const p = wait?.p ?? running.get(m.id);
        if (!p) return;
        if (m.pid !== undefined) p.pid = m.pid;
        else if (m.fd !== undefined && handle) {
          p.attach(m.fd, handle);
          if (wait) wait.want--;
        } else if ('exit' in m) {
          running.delete(m.id);
          p.exit(m.exit ?? null, m.signal ?? null);
        }
        if (wait && p.pid > 0 && wait.want === 0) {
          pending.delete(m.id);
          running.set(m.id, p);
          wait.resolve(p);
        }
      },
    );
    // The spawner died (killed from outside): its programs died with it; the next call starts another.
    c.once('exit', () => {
      if (proc === c) proc = null;
      for (const [id, w] of pending) {
        pending.delete(id);
        w.resolve(failed(w.p.stdio.length, 'the spawner process ended'));
      }
      for (const [id, p] of running) {
        running.delete(id);
        p.exit(null, 'SIGKILL');
      }
    });
    c.on('error', () => {});
    // An idle spawner does not keep the worker alive; one with programs to watch does.
    c.unref();
    c.channel?.unref();
    proc = c;
    return c;
  };
  const fn = (cmd: string, args: string[], opts: SpawnOptions) =>
    new Promise<Spawned>((resolve) => {
      const c = up();
      const id = next++;
      const p = new Proc(opts.stdio.length, (signal) => {
        c.send({ op: 'kill', id, signal });
      });
      if (watched() === 0) c.channel?.ref();
      p.once('exit', idle);
      p.once('error', idle);
      p.on('unref', idle);
      p.on('ref', () => c.channel?.ref());
      pending.set(id, { p, want: opts.stdio.filter((s) => s === 'pipe').length, resolve });
      c.send({
        op: 'spawn',
        id,
        cmd,
        args,
        env: opts.env,
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
        stdio: opts.stdio,
      });
    });
  return Object.assign(fn, {
    close() {
      proc?.disconnect();
      proc = null;
    },
  });
}

/** The same interface over the worker's own `child_process.spawn` (no spawner process). */
export const directSpawn: SpawnFn = (cmd, args, opts) =>
  new Promise((resolve) => {
    // In a session of its own, as the spawner's programs are (see startSpawner).
    const c = spawn(cmd, args, {
      env: opts.env,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      stdio: opts.stdio,
      detached: true,
    });
    const own = { unref: c.unref.bind(c), ref: c.ref.bind(c) };
    c.once('spawn', () =>
      resolve(
        Object.assign(c, {
          unref() {
            own.unref();
            for (const s of c.stdio) (s as Socket | null)?.unref();
          },
          ref() {
            own.ref();
            for (const s of c.stdio) (s as Socket | null)?.ref();
          },
        }) as unknown as Spawned,
      ),
    );
    c.once('error', (e) => {
      if (c.pid === undefined) resolve(failed(opts.stdio.length, e.message));
    });
  });
