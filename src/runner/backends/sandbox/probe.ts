import { execFile } from 'node:child_process';

function ok(cmd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, _out, stderr) =>
      resolve(err ? String(stderr).trim().split('\n').pop() || err.message : null),
    );
  });
}

/**
 * Whether this machine can run sandboxed steps: bubblewrap creates user, PID, mount and network
 * namespaces here, and slirp4netns, nsenter and ip are installed for the job network. Null when it can,
 * else the reason in one line.
 */
export async function probeSandbox(): Promise<string | null> {
  if (process.platform !== 'linux') return `the sandbox needs Linux namespaces (this is ${process.platform})`;
  const bwrap = await ok('bwrap', [
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--unshare-user',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-ipc',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    'true',
  ]);
  if (bwrap) {
    return /ENOENT|not found/i.test(bwrap)
      ? 'bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)'
      : `bubblewrap cannot create namespaces here: ${bwrap}`;
  }
  for (const [cmd, pkg] of [
    ['slirp4netns', 'slirp4netns'],
    ['setpriv', 'util-linux'],
    ['prlimit', 'util-linux'],
    ['ip', 'iproute2'],
  ] as const) {
    const err = await ok(cmd, cmd === 'ip' ? ['-V'] : ['--version']);
    if (err && /ENOENT|not found/i.test(err))
      return `${cmd} is not installed (Debian/Ubuntu: apt-get install ${pkg})`;
  }
  return null;
}
