import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when `pid`'s network namespace has a socket listening on 127.0.0.1:`port`. */
async function listening(pid: number, port: number): Promise<boolean> {
  const text = await readFile(`/proc/${pid}/net/tcp`, 'utf8').catch(() => '');
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return text.split('\n').some((l) => {
    const f = l.trim().split(/\s+/);
    return f[1] === local && f[3] === '0A';
  });
}

/**
 * Listens on 127.0.0.1:`port` inside the network namespace of `pid` (a sandbox waiting to start) and
 * forwards each connection to the unix socket `socket` of the job's gateway. socat joins only the
 * sandbox's user and network namespaces (as slirp4netns does): it stays outside the sandbox's PID
 * namespace and mounts, so the step can neither see nor stop it, and it dies with the worker
 * (`--pdeathsig`). The returned function ends it.
 */
export async function startForwarder(pid: number, port: number, socket: string): Promise<() => void> {
  if (!/^[A-Za-z0-9_./-]+$/.test(socket)) throw new Error(`socket path not usable by socat: ${socket}`);
  const child = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'KILL',
      '--',
      'nsenter',
      '-t',
      String(pid),
      '-U',
      '-n',
      '--preserve-credentials',
      '--',
      'socat',
      `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`,
      `UNIX-CONNECT:${socket}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  let exited = false;
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  child.on('error', (e) => (err += e.message));
  child.once('exit', () => (exited = true));
  const stop = () => void child.kill('SIGKILL');
  for (let waited = 0; !(await listening(pid, port)); waited += 5) {
    if (exited || waited > 5000) {
      stop();
      throw new Error(`could not start the cache forwarder: ${err.trim() || 'socat did not listen'}`);
    }
    await sleep(5);
  }
  return stop;
}

let tools: string | null | undefined;
/** Why the forwarder cannot run here (socat or nsenter missing), or null; asked once per process. */
export function forwarderProblem(): string | null {
  if (tools !== undefined) return tools;
  try {
    execFileSync('sh', ['-c', 'command -v socat && command -v nsenter'], { stdio: 'ignore' });
    tools = null;
  } catch {
    tools = 'socat or nsenter is not installed (apt-get install socat util-linux)';
  }
  return tools;
}

/**
 * The other end for a service: listens on the unix socket `socket` (a worker's path no sandbox sees)
 * and connects each client to 127.0.0.1:`port` inside the network namespace of `pid` (the service's
 * sandbox). `startForwarder` in a step's sandbox then makes that port appear on the step's loopback.
 * Like that forwarder it joins only the user and network namespaces and dies with the worker.
 */
export async function startServiceForwarder(pid: number, port: number, socket: string): Promise<() => void> {
  if (!/^[A-Za-z0-9_./-]+$/.test(socket)) throw new Error(`socket path not usable by socat: ${socket}`);
  const child = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'KILL',
      '--',
      'nsenter',
      '-t',
      String(pid),
      '-U',
      '-n',
      '--preserve-credentials',
      '--',
      'socat',
      `UNIX-LISTEN:${socket},fork,unlink-early`,
      `TCP:127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  let exited = false;
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  child.on('error', (e) => (err += e.message));
  child.once('exit', () => (exited = true));
  const stop = () => void child.kill('SIGKILL');
  for (let waited = 0; !existsSync(socket); waited += 5) {
    if (exited || waited > 5000) {
      stop();
      throw new Error(`could not start the service's forwarder: ${err.trim() || 'socat did not listen'}`);
    }
    await sleep(5);
  }
  return stop;
}

/** True when the network namespace of `pid` has a TCP socket listening on `port` (any address). */
export async function listensOn(pid: number, port: number): Promise<boolean> {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${file}`, 'utf8').catch(() => '');
    for (const l of text.split('\n')) {
      const f = l.trim().split(/\s+/);
      if (f[1]?.endsWith(suffix) && f[3] === '0A') return true;
    }
  }
  return false;
}
