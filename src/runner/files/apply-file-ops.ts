import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { writeOptions, type FileOp } from './file-work.ts';

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
function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw e;
    unlockFolders(path);
    rmSync(path, { recursive: true, force: true });
  }
}

/**
 * Gives every folder under `path` (itself included) rwx for its owner. Each folder is opened with
 * O_NOFOLLOW and changed through that descriptor: a symlink (put there by anything that could still write
 * the tree) is never followed to change something else.
 */
function unlockFolders(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (e) {
    // A folder its owner may not even read (mode 0 or 0300) cannot be opened: changed by its path, once
    // lstat says it is a folder.
    if ((e as NodeJS.ErrnoException).code === 'EACCES') {
      try {
        const st = lstatSync(path);
        if (st.isDirectory()) chmodSync(path, (st.mode & 0o7777) | 0o700);
      } catch {
        return;
      }
      return unlockFolders(path);
    }
    // Not a folder (or a symlink): its own folder's removal deals with it.
    return;
  }
  try {
    const mode = fstatSync(fd).mode;
    if ((mode & 0o700) !== 0o700) fchmodSync(fd, (mode & 0o7777) | 0o700);
  } catch {
    // Not ours: the removal says so.
  } finally {
    closeSync(fd);
  }
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return;
  }
  for (const n of names) unlockFolders(join(path, n));
}
