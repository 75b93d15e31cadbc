import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../log.ts';

/** The folder every job's workspace is made in: `<data dir>/workspaces`. */
export const workspacesRoot = (dataDir: string) => join(dataDir, 'workspaces');

/**
 * Makes the workspaces folder (`0700`) and marks it a top of unrelated trees: ext4's TOPDIR flag
 * (`chattr +T`), as /home is. Each job's folder is then placed by ext4's Orlov allocator in a block
 * group of its own, not packed next to the last ones. Without a journal, ext4 skips every inode freed in
 * the last one to six minutes when it looks for a free one, scanning the group from its start; a CI
 * server frees hundreds a second, and with all workspaces in one group each new file cost 0.1 to 0.5 ms
 * of a scan (docs/PERFORMANCE.md). With the flag, 0.03 to 0.04 ms. On other file systems (or without
 * `chattr`) the flag is refused and nothing else changes; that is logged once, at debug.
 *
 * `chattr` is a fixed program given a path of the server's own configuration; nothing of a job's reaches it.
 */
export async function prepareWorkspacesRoot(dataDir: string, log: Logger): Promise<string> {
  // Absolute, so no data dir can be read as one of chattr's options.
  const root = resolve(workspacesRoot(dataDir));
  await mkdir(root, { recursive: true, mode: 0o700 });
  await new Promise<void>((resolve) => {
    execFile(
      'chattr',
      ['+T', root],
      { timeout: 5000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
      (err, _out, stderr) => {
        if (err)
          log.debug(
            { dir: root, reason: (String(stderr).trim() || err.message).slice(0, 200) },
            'workspaces folder: the file system did not take the TOPDIR flag (no change in behaviour)',
          );
        resolve();
      },
    );
  });
  return root;
}
