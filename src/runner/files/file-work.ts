import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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

/** Gives every folder under `path` rwx for its owner, never through a symlink (see apply-file-ops.ts). */
async function unlockFolders(path: string): Promise<void> {
  const dir = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW).catch(
    async (e: NodeJS.ErrnoException) => {
      // A folder its owner may not even read: changed by its path, once lstat says it is a folder.
      const st = e.code === 'EACCES' ? await lstat(path).catch(() => null) : null;
      if (st?.isDirectory()) await chmod(path, (st.mode & 0o7777) | 0o700).catch(() => {});
      return st?.isDirectory()
        ? open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW).catch(() => null)
        : null;
    },
  );
  if (!dir) return;
  try {
    const { mode } = await dir.stat();
    if ((mode & 0o700) !== 0o700) await dir.chmod((mode & 0o7777) | 0o700).catch(() => {});
  } finally {
    await dir.close();
  }
  for (const n of await readdir(path).catch(() => [])) await unlockFolders(join(path, n));
}

/** The options of a write op for writeFile / writeFileSync. */
export function writeOptions(o: Extract<FileOp, { op: 'write' }>): { mode?: number; flag?: string } {
  return { ...(o.mode ? { mode: o.mode } : {}), ...(o.exclusive ? { flag: 'wx' } : {}) };
}
