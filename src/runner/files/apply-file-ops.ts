import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/** Gives every folder under `path` (itself included, never through a symlink) rwx for its owner. */
function unlockFolders(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  if ((st.mode & 0o700) !== 0o700) {
    try {
      chmodSync(path, (st.mode & 0o7777) | 0o700);
    } catch {
      // Not ours: the removal says so.
    }
  }
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return;
  }
  for (const n of names) unlockFolders(join(path, n));
}
