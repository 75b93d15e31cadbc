import { execFile } from 'node:child_process';
import { programPath } from './program-path.ts';

function fails(cmd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, _out, stderr) =>
      resolve(err ? String(stderr).trim().split('\n').pop() || err.message : null),
    );
  });
}

/** Whether `cmd` is an executable on PATH. */
const onPath = (cmd: string) => programPath(cmd, process.env.PATH ?? '') !== null;

/**
 * Whether this machine can run sandboxed steps: bubblewrap creates user, PID, mount and network
 * namespaces here, and slirp4netns, ip, nsenter, unshare, setpriv and prlimit are installed for the job's network and
 * limits. Null when it can, else the reason in one line. One process at most: a worker starts fast.
 */
export async function probeSandbox(): Promise<string | null> {
  if (process.platform !== 'linux') return `the sandbox needs Linux namespaces (this is ${process.platform})`;
  for (const [cmd, pkg] of [
    ['bwrap', 'bubblewrap'],
    ['slirp4netns', 'slirp4netns'],
    ['ip', 'iproute2'],
    ['nsenter', 'util-linux'],
    ['unshare', 'util-linux'],
    ['setpriv', 'util-linux'],
    ['prlimit', 'util-linux'],
  ] as const) {
    if (!onPath(cmd)) {
      const name = cmd === 'bwrap' ? 'bubblewrap (bwrap)' : cmd;
      return `${name} is not installed (Debian/Ubuntu: apt-get install ${pkg})`;
    }
  }
  // prettier-ignore
  const err = await fails('bwrap', [
    '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-user', '--unshare-pid',
    '--unshare-net', '--unshare-ipc', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', 'true',
  ]);
  return err ? `bubblewrap cannot create namespaces here: ${err}` : null;
}
