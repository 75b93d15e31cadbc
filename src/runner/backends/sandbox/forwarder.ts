import { execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/**
 * Starts socat as `setpriv --pdeathsig KILL -- nsenter -t <pid> -U -n -- socat -d -d <from> <to>`
 * (joining only the user and network namespaces of `pid`) and resolves once it says it listens (its
 * notice on stderr: no polling), with the function that ends it.
 */
function socatIn(pid: number, from: string, to: string, what: string): Promise<() => void> {
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
      '-d',
      '-d',
      from,
      to,
    ],
    // Its own session: a signal to the worker's process group (Ctrl-C) is not for a running job's forwarder.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const stop = () => void child.kill('SIGKILL');
  return new Promise((resolve, reject) => {
    let err = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.stderr!.off('data', read);
      stop();
      reject(new Error(`could not start ${what}: ${why}`));
    };
    const read = (c: Buffer) => {
      err += c.toString();
      if (/ N listening on /.test(err)) {
        clearTimeout(timer);
        // Its later notices (one per connection) are read and dropped, so socat never blocks on them.
        child.stderr!.off('data', read);
        child.stderr!.resume();
        child.off('exit', exited);
        resolve(stop);
      }
    };
    const exited = () => fail(err.replace(/^.* [NW] .*$/gm, '').trim() || 'socat did not listen');
    const timer = setTimeout(() => fail('socat did not listen within 5 s'), 5000);
    child.stderr!.on('data', read);
    child.once('error', (e) => fail(e.message));
    child.once('exit', exited);
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
  return socatIn(
    pid,
    `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`,
    `UNIX-CONNECT:${socket}`,
    'the cache forwarder',
  );
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
  return socatIn(
    pid,
    `UNIX-LISTEN:${socket},fork,unlink-early`,
    `TCP:127.0.0.1:${port}`,
    "the service's forwarder",
  );
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
