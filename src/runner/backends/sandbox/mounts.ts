import { isAbsolute, join, resolve, sep } from 'node:path';
import type { JobDirs, NetworkMode } from '../../backend.ts';

export interface MountPlan {
  dirs: JobDirs;
  /** pushci's own places the steps must not see: data dir, working directory, pipelines folder. */
  hide: string[];
  /** The pushci user's home; the job's `home` takes its place. */
  home: string | null;
  /** Host directories to show read-only (the mirror objects the checkout borrows). */
  readOnly: string[];
  network: NetworkMode;
  /** A resolv.conf for the private network (the slirp4netns DNS forwarder), or null. */
  resolvConf: string | null;
  /** The steps run in the network they are started in (a worker slot's): none of their own. */
  slotNetwork?: boolean;
}

/** Hiding one of these (or a folder holding them) would leave the steps without programs. */
const SYSTEM = ['/usr', '/usr/local', '/bin', '/sbin', '/lib', '/lib64', '/etc', '/opt', '/nix', '/var/lib'];

const within = (child: string, parent: string) =>
  child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

function hideable(p: string): boolean {
  return isAbsolute(p) && p !== '/' && !SYSTEM.some((s) => within(s, p)) && !within(p, '/proc');
}

/**
 * The host folder shown as the steps' `/dev/shm`: inside the job's folder, so what a step puts there
 * counts against PUSHCI_JOB_DISK and goes with the job. bubblewrap's own `/dev` is a tmpfs sized at half
 * the machine's memory that no job limit counts (rlimits do not see tmpfs pages), so it is read-only.
 */
export const shmDir = (dirs: JobDirs) => join(dirs.root, 'shm');

/** Where the job's `$HOME` appears: at the pushci user's home path, or at its own path when that cannot be covered. */
export function homeInside(p: Pick<MountPlan, 'home' | 'dirs'>): string {
  return p.home && hideable(p.home) ? p.home : p.dirs.home;
}

/**
 * bubblewrap's arguments for a job's steps: the host's root read-only; fresh /dev, /proc (the job's own
 * PID namespace), /run; the job's own /tmp, $HOME and /dev/shm; pushci's folders covered by empty tmpfs; then the
 * checkout (read-write), the scripts and the borrowed objects (read-only). Covers go shallowest first
 * and grants last, so a grant inside a covered folder (the workspace inside the data dir) stays visible.
 */
export function bwrapArgs(p: MountPlan): string[] {
  const a = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/run'];
  a.push('--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try');
  if (p.network !== 'host' && !p.slotNetwork) a.push('--unshare-net');
  // uid 0 inside (no capabilities: the steps are "root" of their own user namespace only, as in rootless
  // containers); a second, nested user namespace for another uid would own no network to set up.
  a.push('--uid', '0', '--gid', '0');
  a.push('--hostname', 'pushci-job', '--die-with-parent', '--new-session', '--cap-drop', 'ALL');
  // /dev/shm is the job's own folder on disk, mounted with the other covers (before the grants): with
  // the data dir under /dev/shm, a later mount there would hide the checkout and the scripts.
  const covers: Array<[string, string[]]> = [
    ['/tmp', ['--bind', p.dirs.tmp, '/tmp']],
    ['/dev/shm', ['--bind', shmDir(p.dirs), '/dev/shm']],
  ];
  if (p.home && hideable(p.home)) covers.push([p.home, ['--bind', p.dirs.home, p.home]]);
  // A folder inside another hidden one needs no cover of its own (and would show up as an empty mount point).
  const hidden = p.hide.map((h) => resolve(h)).filter(hideable);
  // Nor does one inside a folder the job's own replaces (/tmp, /dev/shm, $HOME), unless a grant is in it:
  // the host's is out of sight already, and its mount point would be a folder made in the job's own.
  const grants = [...p.readOnly, p.dirs.scripts, p.dirs.src, p.dirs.home];
  const replaced = covers.map(([d]) => d);
  const tmpfs = hidden.filter(
    (h) =>
      !hidden.some((o) => o !== h && within(h, o)) &&
      !(replaced.some((r) => within(h, r)) && !grants.some((g) => within(g, h))),
  );
  for (const r of new Set(tmpfs)) if (!covers.some(([d]) => d === r)) covers.push([r, ['--tmpfs', r]]);
  covers.sort((x, y) => x[0].split(sep).length - y[0].split(sep).length);
  for (const [, args] of covers) a.push(...args);
  for (const r of p.readOnly) a.push('--ro-bind', r, r);
  a.push('--ro-bind', p.dirs.scripts, p.dirs.scripts);
  a.push('--bind', p.dirs.src, p.dirs.src);
  if (homeInside(p) === p.dirs.home) a.push('--bind', p.dirs.home, p.dirs.home);
  if (p.resolvConf) a.push('--ro-bind', p.resolvConf, '/etc/resolv.conf');
  // Covers are read-only once every grant is mounted (a remount does not reach the mounts inside).
  for (const [d, args] of covers) if (args[0] === '--tmpfs') a.push('--remount-ro', d);
  a.push('--remount-ro', '/run', '--remount-ro', '/dev');
  return a;
}
