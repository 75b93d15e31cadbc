import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** At most this much of each file is read; GitHub allows 1 MiB of outputs per job, too. */
export const MAX_COMMAND_FILE_BYTES = 1024 * 1024;

export interface CommandFiles {
  /** GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY, GITHUB_STATE as the step sees them. */
  env: Record<string, string>;
  /** The same files on the worker's side. */
  host: { output: string; env: string; path: string; summary: string; state: string };
}

/**
 * Empty files a step appends to, in the job's temp folder (which the step can write). `hostTmp` is
 * that folder on the worker, `insideTmp` where the step sees it (`/tmp` in the sandbox). Made off the
 * worker's event loop (it runs other jobs meanwhile), side by side.
 */
export async function createCommandFiles(
  hostTmp: string,
  insideTmp: string,
  step: number,
): Promise<CommandFiles> {
  const dir = `_pushci_step_${step}`;
  await mkdir(join(hostTmp, dir), { recursive: true, mode: 0o700 });
  const names = {
    output: 'output',
    env: 'env',
    path: 'path',
    summary: 'summary.md',
    state: 'state',
  } as const;
  const host = Object.fromEntries(
    Object.entries(names).map(([k, f]) => [k, join(hostTmp, dir, f)]),
  ) as CommandFiles['host'];
  await Promise.all(Object.values(host).map((p) => writeFile(p, '', { mode: 0o600 })));
  const inside = (f: string) => `${insideTmp}/${dir}/${f}`;
  return {
    host,
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
 * Reads a file the step wrote, after every process of the step has ended. The step controls the
 * folder, so nothing is followed: a symlinked folder or file (to the server's files) reads as a
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
