import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { JobDirs } from './backend.ts';
import { asyncFileWork, type FileOp, type FileWork } from './files/file-work.ts';

/** At most this much of each file is read; GitHub allows 1 MiB of outputs per job, too. */
export const MAX_COMMAND_FILE_BYTES = 1024 * 1024;

export interface CommandFiles {
  /** GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY, GITHUB_STATE as the step sees them. */
  env: Record<string, string>;
  /** The same files on the worker's side, where pushci reads them once `takeCommandFiles` moved them. */
  host: { output: string; env: string; path: string; summary: string; state: string };
  /** The folder in the job's temp folder (the step's to write), and where it is taken to be read. */
  folder: { shared: string; taken: string };
}

/**
 * The job's folder for command files being made or read: on the temp folder's file system, out of every
 * step's sight. The job's own folder is (no sandbox shows it, only the folders in it granted to the
 * steps): one folder fewer to make per job.
 */
export const commandFilesDir = (dirs: Pick<JobDirs, 'root'>) => dirs.root;

/**
 * Empty files a step appends to, in the job's temp folder (which the step can write). `hostTmp` is
 * that folder on the worker, `insideTmp` where the step sees it (`/tmp` in the sandbox), `hostPrivate`
 * a folder on the same file system that no step can see or write. Made off the worker's event loop (it
 * runs other jobs meanwhile): in one batch of `files` (the worker's file thread).
 *
 * The job's processes can write the temp folder at any time (a service outlives each step), so the
 * files are never made through it: the folder is filled in `hostPrivate` and moved in whole, under a
 * name no step could guess and plant a symlink at beforehand (pushci would have created and truncated
 * files wherever it led).
 */
export async function createCommandFiles(
  hostTmp: string,
  insideTmp: string,
  hostPrivate: string,
  step: number,
  files: FileWork = asyncFileWork,
  /** More of the step's file work for the same batch (its script file: one handoff to the thread fewer). */
  also: FileOp[] = [],
): Promise<CommandFiles> {
  const dir = `_pushci_step_${step}_${randomBytes(8).toString('hex')}`;
  const taken = join(hostPrivate, dir);
  const names = {
    output: 'output',
    env: 'env',
    path: 'path',
    summary: 'summary.md',
    state: 'state',
  } as const;
  const host = Object.fromEntries(
    Object.entries(names).map(([k, f]) => [k, join(taken, f)]),
  ) as CommandFiles['host'];
  const shared = join(hostTmp, dir);
  await files.apply([
    { op: 'mkdir', path: taken, mode: 0o700 },
    ...Object.values(host).map((p) => ({
      op: 'write' as const,
      path: p,
      data: '',
      mode: 0o600,
      exclusive: true,
    })),
    { op: 'rename', from: taken, to: shared },
    ...also,
  ]);
  const inside = (f: string) => `${insideTmp}/${dir}/${f}`;
  return {
    host,
    folder: { shared, taken },
    env: {
      GITHUB_OUTPUT: inside(names.output),
      GITHUB_ENV: inside(names.env),
      GITHUB_PATH: inside(names.path),
      GITHUB_STEP_SUMMARY: inside(names.summary),
      // Read only for node actions (pre/main hand it to post as STATE_*).
      GITHUB_STATE: inside(names.state),
    },
  };
}

/**
 * Moves a step's command-file folder out of the job's reach, once the step has ended, so that what
 * pushci checks is what it opens: a process the step left (or a service) could otherwise swap the
 * folder for a symlink between the check and the open. rename(2) moves whatever is there, a symlink
 * included, which `readCommandFile` then refuses. A folder the step removed reads as empty files.
 */
export function takeCommandFiles(files: CommandFiles): void {
  try {
    renameSync(files.folder.shared, files.folder.taken);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Reads a file the step wrote, after `takeCommandFiles`. The step controlled the folder, so nothing is
 * followed: a symlinked folder or file (to the server's files) reads as a
 * problem, not as their content. Returns the text (cut at `max` bytes) and what went wrong.
 */
export function readCommandFile(
  path: string,
  max = MAX_COMMAND_FILE_BYTES,
): { text: string; problem: string | null } {
  try {
    const dir = lstatSync(join(path, '..'));
    if (!dir.isDirectory()) return { text: '', problem: 'its folder was replaced' };
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return { text: '', problem: 'it is not a regular file' };
      const buf = Buffer.alloc(Math.min(st.size, max));
      let n = 0;
      while (n < buf.length) {
        const got = readSync(fd, buf, n, buf.length - n, n);
        if (got === 0) break;
        n += got;
      }
      return {
        text: buf.subarray(0, n).toString('utf8'),
        problem: st.size > max ? `it is larger than ${max} bytes; the rest is ignored` : null,
      };
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { text: '', problem: null };
    if (code === 'ELOOP') return { text: '', problem: 'it is a symlink, which is not followed' };
    return { text: '', problem: `it cannot be read (${code ?? (err as Error).message})` };
  }
}

/**
 * `name=value` lines and `name<<DELIMITER` … `DELIMITER` blocks, GitHub's format for GITHUB_OUTPUT and
 * GITHUB_ENV. Later values win.
 */
export function parseKeyValues(text: string): { values: Record<string, string>; problems: string[] } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    const eq = line.indexOf('=');
    if (heredoc && (eq < 0 || eq > line.indexOf('<<'))) {
      const name = heredoc[1]!;
      const delimiter = heredoc[2]!;
      const body: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        const l = lines[i]!.replace(/\r$/, '');
        if (l === delimiter) {
          closed = true;
          break;
        }
        body.push(l);
      }
      if (!closed) problems.push(`"${name}<<${delimiter}" has no closing "${delimiter}" line`);
      else values[name] = body.join('\n');
    } else if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
    else problems.push(`line ${i + 1} is neither name=value nor name<<DELIMITER`);
  }
  return { values, problems };
}
