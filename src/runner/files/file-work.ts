import { constants } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';

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

/** FileWork with node:fs/promises, one operation after another (tests, and a worker whose thread died). */
export const asyncFileWork: FileWork = {
  async apply(ops) {
    for (const o of ops) {
      if (o.op === 'mkdir') await mkdir(o.path, { recursive: true, ...(o.mode ? { mode: o.mode } : {}) });
      else if (o.op === 'write') await writeFile(o.path, o.data, writeOptions(o));
      else if (o.op === 'rename') await rename(o.from, o.to);
      else
        await rm(o.path, { recursive: true, force: true }).catch(async (e: NodeJS.ErrnoException) => {
          // Folders the job made read-only (see apply-file-ops.ts): made writable, then tried again.
          if (e.code !== 'EACCES' && e.code !== 'EPERM') throw e;
          await unlockFolders(o.path);
          await rm(o.path, { recursive: true, force: true });
        });
    }
  },
};

/** open(2)'s O_PATH on Linux (Node does not name it): a descriptor of the folder itself, for fstat and /proc. */
export const O_PATH = 0o10000000;

/** Gives every folder under `path` rwx for its owner, walked by descriptors (see apply-file-ops.ts). */
async function unlockFolders(path: string): Promise<void> {
  if (process.platform !== 'linux') return;
  const flags = O_PATH | constants.O_NOFOLLOW | constants.O_DIRECTORY;
  const at = async (dir: FileHandle, depth: number): Promise<void> => {
    const self = `/proc/self/fd/${dir.fd}`;
    const { mode } = await dir.stat();
    if ((mode & 0o7700) !== 0o700) await chmod(self, (mode & 0o777) | 0o700).catch(() => {});
    if (depth >= 256) return;
    for (const n of await readdir(self).catch(() => [])) {
      const child = await open(`${self}/${n}`, flags).catch(() => null);
      if (!child) continue;
      try {
        await at(child, depth + 1);
      } finally {
        await child.close();
      }
    }
  };
  const top = await open(path, flags).catch(() => null);
  if (!top) return;
  try {
    await at(top, 0);
  } finally {
    await top.close();
  }
}

/** The options of a write op for writeFile / writeFileSync. */
export function writeOptions(o: Extract<FileOp, { op: 'write' }>): { mode?: number; flag?: string } {
  return { ...(o.mode ? { mode: o.mode } : {}), ...(o.exclusive ? { flag: 'wx' } : {}) };
}
