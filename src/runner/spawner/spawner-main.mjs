// @ts-check
/**
 * The spawner: a small process a worker starts once (see `startSpawner`) that starts the worker's
 * programs for it (git, bubblewrap, a sandbox's network helper). `child_process.spawn` forks the calling
 * process and waits on its event loop for the child's `exec`; the fork costs more the bigger the process
 * is (nodejs/node#14917) and the wait grows with the machine's load. Here both happen in a process that
 * does nothing else, while the worker's loop goes on with other jobs.
 *
 * It talks only over the IPC channel it was started with (no socket, no file a step could find), imports
 * nothing but Node's own modules, and ends with its worker: when the channel closes it kills what it
 * started and exits (bubblewrap's --die-with-parent then ends the sandboxes).
 *
 * It is plain JavaScript (type-checked from its JSDoc): a TypeScript file would have Node load its type
 * stripper (WebAssembly) into this process, which roughly doubled the memory each fork copies. For the
 * same reason `startSpawner` runs it with a 1 MiB young generation and no V8 helper threads: after a
 * fork, each page the spawner writes again costs it a page fault.
 *
 * Requests: `{ op: 'spawn', id, cmd, args, env, cwd?, stdio }` and `{ op: 'kill', id, signal }`.
 * Answers, in this order per id: `{ id, pid }`, then one `{ id, fd }` message per `'pipe'` entry of
 * `stdio` carrying that pipe's socket, then `{ id, exit, signal }`; or `{ id, error }` when it could not
 * start.
 */
import { spawn } from 'node:child_process';
import { closeSync, readdirSync, readFileSync } from 'node:fs';

// Descriptors pushci's own launcher left open without close-on-exec (a shell's `exec 30>file`, a
// supervisor's pipe) would reach every program started here, sandboxes included: close them. 0-2 and
// the IPC channel (3) are the spawner's own; Node's internal descriptors are all close-on-exec.
const O_CLOEXEC = 0o2000000;
for (const name of readdirSync('/proc/self/fd')) {
  const fd = Number(name);
  if (fd <= 3) continue;
  try {
    const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    if (flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) === 0) closeSync(fd);
  } catch {
    // The listing's own descriptor, closed by now.
  }
}

/**
 * @typedef {{ op: 'spawn', id: number, cmd: string, args: string[], env: Record<string, string>,
 *   cwd?: string, stdio: Array<'pipe' | 'ignore'> }} SpawnRequest
 * @typedef {SpawnRequest | { op: 'kill', id: number, signal: NodeJS.Signals }} Request
 */

/** @type {Map<number, import('node:child_process').ChildProcess>} */
const children = new Map();
/**
 * To the worker. Once it is gone (its channel closed while a program of it was still ending), a send
 * fails with EPIPE: that is the end of the spawner, not an error to crash on.
 * @type {(msg: object, handle?: import('node:net').Socket) => void}
 */
const send = (msg, handle) =>
  process.send?.(msg, handle, {}, (err) => {
    if (err) end();
  });

/** @param {SpawnRequest} r */
function start(r) {
  /** @type {import('node:child_process').ChildProcess} */
  let child;
  try {
    child = spawn(r.cmd, r.args, { env: r.env, ...(r.cwd ? { cwd: r.cwd } : {}), stdio: r.stdio });
  } catch (e) {
    send({ id: r.id, error: /** @type {Error} */ (e).message });
    return;
  }
  if (child.pid === undefined) {
    child.once('error', (e) => send({ id: r.id, error: e.message }));
    return;
  }
  children.set(r.id, child);
  send({ id: r.id, pid: child.pid });
  r.stdio.forEach((kind, fd) => {
    if (kind !== 'pipe') return;
    const sock = /** @type {import('node:net').Socket} */ (child.stdio[fd]);
    // Nothing may be read here: every byte is the worker's, which reads it once the socket arrives.
    /** @type {{ _handle?: { readStop?: () => void } }} */ (
      /** @type {unknown} */ (sock)
    )._handle?.readStop?.();
    send({ id: r.id, fd }, sock);
  });
  child.once('exit', (code, signal) => {
    children.delete(r.id);
    send({ id: r.id, exit: code, signal });
  });
}

process.on('message', (/** @type {Request} */ r) => {
  if (r.op === 'spawn') start(r);
  else if (r.op === 'kill') children.get(r.id)?.kill(r.signal);
});
/** The worker is gone: end everything started here, then the spawner. */
function end() {
  for (const c of children.values()) c.kill('SIGKILL');
  process.exit(0);
}
process.on('disconnect', end);
// A worker killed while a pipe's handover waits for its acknowledgement never brings 'disconnect': Node
// postpones it until its queue of handles is flushed, which a dead worker never does. The spawner
// would live on with its programs (and the worker's stderr), so it also ends once it has a new parent.
const worker = process.ppid;
setInterval(() => {
  if (process.ppid !== worker) end();
}, 250).unref();
