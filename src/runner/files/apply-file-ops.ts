import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { FileOp } from './file-work.ts';

/** The options of a write op for writeFile / writeFileSync. */
export function writeOptions(o: Extract<FileOp, { op: 'write' }>): { mode?: number; flag?: string } {
  return { ...(o.mode ? { mode: o.mode } : {}), ...(o.exclusive ? { flag: 'wx' } : {}) };
}

/** The batch of a FileWork, done synchronously: only ever on the file thread, never on the event loop. */
export function applyFileOps(ops: FileOp[]): void {
  for (const o of ops) {
    if (o.op === 'mkdir') mkdirSync(o.path, { recursive: true, ...(o.mode ? { mode: o.mode } : {}) });
    else if (o.op === 'write') writeFileSync(o.path, o.data, writeOptions(o));
    else if (o.op === 'rename') renameSync(o.from, o.to);
    else removeTree(o.path);
  }
}

/**
 * `rm -rf`. Node's rmSync is one native call (std::filesystem), not a JavaScript walk of the tree. A
 * folder the job made read-only (its files are the worker's user's, the sandbox's root mapped to it)
 * refuses the removal of what it holds unless the worker runs as root: such folders are made writable
 * (never following a symlink) and the removal is tried again.
 */
export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw e;
    unlockFolders(path);
    rmSync(path, { recursive: true, force: true });
  }
}

/** open(2)'s O_PATH on Linux (Node does not name it): a descriptor of the folder itself, for fstat and /proc. */
const O_PATH = 0o10000000;
const FOLDER = O_PATH | constants.O_NOFOLLOW | constants.O_DIRECTORY;
/** Folders deeper than this are left as they are (the removal then says what it could not remove). */
const MAX_DEPTH = 1000;

/**
 * Gives every folder under `path` (itself included) rwx for its owner, and drops its setuid, setgid and
 * sticky bits. The tree is walked by descriptors, never by paths: each folder is opened O_PATH|O_NOFOLLOW
 * through its parent's descriptor (/proc/self/fd/<parent>/<name>) and changed through its own
 * (/proc/self/fd/<fd>), so nothing that could still write the tree can swap a folder, or a folder on the
 * way to it, for a symlink and have pushci change what that points at. Linux only (elsewhere a removal
 * that fails says so).
 */
export function unlockFolders(path: string): void {
  if (process.platform !== 'linux') return;
  let fd: number;
  try {
    fd = openSync(path, FOLDER);
  } catch {
    return;
  }
  try {
    unlockAt(fd, 0);
  } finally {
    closeSync(fd);
  }
}

function unlockAt(fd: number, depth: number): void {
  const self = `/proc/self/fd/${fd}`;
  try {
    const { mode } = fstatSync(fd);
    if ((mode & 0o7700) !== 0o700) chmodSync(self, (mode & 0o777) | 0o700);
  } catch {
    // Not ours: the removal says so.
  }
  if (depth >= MAX_DEPTH) return;
  let names: Buffer[];
  try {
    // As bytes: a name that is not UTF-8 would not survive a string.
    names = readdirSync(self, { encoding: 'buffer' });
  } catch {
    return;
  }
  for (const n of names) {
    let child: number;
    try {
      child = openSync(Buffer.concat([Buffer.from(`${self}/`), n]), FOLDER);
    } catch {
      // Not a folder (a file, a symlink): removed as it is.
      continue;
    }
    try {
      unlockAt(child, depth + 1);
    } finally {
      closeSync(child);
    }
  }
}
