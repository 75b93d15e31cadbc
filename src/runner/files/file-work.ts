import { mkdir, rename, writeFile } from 'node:fs/promises';
import { removeTree, writeOptions } from './apply-file-ops.ts';

/** One piece of a job's file work; a batch of them runs in order and stops at the first failure. */
export type FileOp =
  | { op: 'mkdir'; path: string; mode?: number }
  /** With `exclusive`, fails when anything (a symlink included) is at `path` already. */
  | { op: 'write'; path: string; data: string; mode?: number; exclusive?: boolean }
  /** rename(2): moves whatever is at `from`, a symlink included, never following it. */
  | { op: 'rename'; from: string; to: string }
  /** `rm -rf`: a folder and all it holds (a symlink in it is removed, never followed); gone already is fine. */
  | { op: 'rm'; path: string };

/**
 * Does a job's file work (its folders, its checkout's skeleton, its command files, its removal) in
 * batches. The worker's own (`startFileThread`) does each batch on a thread of its own, one message
 * instead of a round trip through libuv's thread pool per system call, which the worker's event loop
 * pays for while it runs other jobs.
 */
export interface FileWork {
  apply(ops: FileOp[]): Promise<void>;
}

/**
 * FileWork with node:fs/promises, one operation after another (tests, and a worker whose thread died). A
 * removal is the file thread's own (`removeTree`, synchronous): node:fs/promises' rm walks the tree by
 * paths, and something still writing it could swap a folder for a symlink between its look and its
 * unlink and have it delete what that points at.
 */
export const asyncFileWork: FileWork = {
  async apply(ops) {
    for (const o of ops) {
      if (o.op === 'mkdir') await mkdir(o.path, { recursive: true, ...(o.mode ? { mode: o.mode } : {}) });
      else if (o.op === 'write') await writeFile(o.path, o.data, writeOptions(o));
      else if (o.op === 'rename') await rename(o.from, o.to);
      else removeTree(o.path);
    }
  },
};
