import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { freePort } from '../../src/redis/ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { freePort };

export interface TestRedis {
  url: string;
  /** A key prefix of this test's own, so tests sharing one Redis (REDIS_URL) never meet. */
  prefix: string;
  /** Only for private servers: SIGKILL it, and start it again on the same port and data. */
  kill?(): Promise<void>;
  restart?(): Promise<void>;
  /** Only for private servers: the redis-server's process id (the bench reads its CPU time). */
  pid?(): number | undefined;
  stop(): Promise<void>;
}

let counter = 0;
const uniquePrefix = () => `t${process.pid}x${Date.now().toString(36)}x${counter++}`;

/**
 * A private redis-server on a free port (append-only, so restarts keep data), or the Redis of
 * REDIS_URL with a unique key prefix when that is set.
 */
export async function startRedis(opts: { private?: boolean } = {}): Promise<TestRedis> {
  const shared = process.env.REDIS_URL;
  if (shared && !opts.private) return { url: shared, prefix: uniquePrefix(), stop: async () => {} };
  let port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pushci-test-redis-'));
  let proc: ChildProcess;
  // Ready only once this redis-server says so: a port that merely accepts connections may be another
  // program's, which took it between freePort() closing it and Redis binding it (Redis then exits).
  const launch = async (samePort: boolean) => {
    for (let attempt = 1; ; attempt++) {
      proc = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
          '--save',
          '',
        ],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      const outcome = await whenReady(proc);
      if (outcome === 'ready') return;
      if (attempt < 5 && /Address already in use/.test(outcome)) {
        // A restart keeps its port (its clients reconnect there): wait for it to be free again.
        if (samePort) await new Promise((r) => setTimeout(r, 200));
        else port = await freePort();
        continue;
      }
      throw new Error(`redis-server did not start on port ${port}:\n${outcome}`);
    }
  };
  await launch(false);
  const kill = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await gone;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    prefix: uniquePrefix(),
    kill,
    restart: () => launch(true),
    stop: kill,
    pid: () => proc.pid,
  };
}

/**
 * Resolves 'ready' once redis-server logs that it accepts connections, or with its output when it exits
 * first. Its stdout is read to the end either way, so a chatty server never blocks on a full pipe.
 */
function whenReady(proc: ChildProcess): Promise<'ready' | string> {
  return new Promise((resolve) => {
    let out = '';
    let waiting = true;
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      if (!waiting) return;
      out = (out + d).slice(-8192);
      if (/Ready to accept connections/.test(out)) {
        waiting = false;
        resolve('ready');
      }
    });
    // 'close', not 'exit': by then all it wrote (why it stopped) has been read.
    proc.once('close', (code, signal) => {
      if (waiting) resolve(`exit ${code ?? signal}\n${out}`);
      waiting = false;
    });
  });
}
