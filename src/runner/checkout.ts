import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GitError, git } from './git.ts';

export interface CheckoutOptions {
  dataDir: string;
  cloneUrl: string;
  sha: string;
  /** Also fetch these commits (e.g. the push's `before`, to list changed files); missing ones are ignored. */
  alsoFetch?: string[];
  workspace: string;
  env: Record<string, string>;
  signal?: AbortSignal;
}

/** The bare mirror of one clone URL; its name is a hash, never part of a payload. */
export function mirrorPath(dataDir: string, cloneUrl: string): string {
  return join(dataDir, 'mirrors', `${createHash('sha256').update(cloneUrl).digest('hex').slice(0, 24)}.git`);
}

async function hasCommit(mirror: string, sha: string, env: Record<string, string>): Promise<boolean> {
  try {
    await git(['cat-file', '-e', `${sha}^{commit}`], { cwd: mirror, env });
    return true;
  } catch {
    return false;
  }
}

async function ensureMirror(mirror: string, env: Record<string, string>): Promise<void> {
  await mkdir(join(mirror, '..'), { recursive: true });
  try {
    await git(['rev-parse', '--git-dir'], { cwd: mirror, env });
    return;
  } catch {
    // Not there yet: build it aside and rename, so concurrent workers never see half a repository.
  }
  const tmp = `${mirror}.${randomBytes(4).toString('hex')}.tmp`;
  await git(['init', '-q', '--bare', tmp], { env });
  // Objects fetched by commit id are referenced only by our refs; never let gc drop them mid-build.
  await git(['config', 'gc.auto', '0'], { cwd: tmp, env });
  try {
    await rename(tmp, mirror);
  } catch {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Fetches `sha` into the per-URL bare mirror (only what is missing), then makes a fresh workspace that
 * borrows the mirror's objects and checks the commit out detached. The second build of a repository
 * fetches only new objects instead of cloning again.
 */
export async function checkout(o: CheckoutOptions): Promise<void> {
  const mirror = mirrorPath(o.dataDir, o.cloneUrl);
  const env = o.env;
  const sig = o.signal ? { signal: o.signal } : {};
  await ensureMirror(mirror, env);
  const wanted = [o.sha, ...(o.alsoFetch ?? [])];
  const missing: string[] = [];
  for (const sha of wanted) if (!(await hasCommit(mirror, sha, env))) missing.push(sha);
  if (missing.length > 0) {
    try {
      // Fetch by exact id: what was pushed, not whatever the branch points at now.
      await git(
        [
          'fetch',
          '-q',
          '--no-tags',
          '--no-write-fetch-head',
          o.cloneUrl,
          ...missing.map((s) => `+${s}:refs/pushci/${s}`),
        ],
        {
          cwd: mirror,
          env,
          redact: o.cloneUrl,
          ...sig,
        },
      );
    } catch (err) {
      // Servers that refuse fetching by id: fetch the branches and tags instead.
      if (!(await hasCommit(mirror, o.sha, env))) {
        await git(
          [
            'fetch',
            '-q',
            '--no-write-fetch-head',
            o.cloneUrl,
            '+refs/heads/*:refs/heads/*',
            '+refs/tags/*:refs/tags/*',
          ],
          {
            cwd: mirror,
            env,
            redact: o.cloneUrl,
            ...sig,
          },
        ).catch((e: Error) => {
          throw new GitError(`${(err as Error).message}; ${e.message}`);
        });
      }
    }
    if (!(await hasCommit(mirror, o.sha, env)))
      throw new GitError(`commit ${o.sha} is not in the repository`);
  }
  await mkdir(o.workspace, { recursive: true });
  await git(['init', '-q'], { cwd: o.workspace, env });
  await writeFile(join(o.workspace, '.git', 'objects', 'info', 'alternates'), `${join(mirror, 'objects')}\n`);
  await git(['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', o.sha], {
    cwd: o.workspace,
    env,
    ...sig,
  });
}

/** Files changed between two commits in the workspace, or null when unknown (no base, or more than `cap`). */
export async function changedFiles(
  workspace: string,
  before: string,
  after: string,
  env: Record<string, string>,
  cap: number,
): Promise<string[] | null> {
  const base = /^0+$/.test(before) ? null : before;
  try {
    const out = base
      ? await git(['diff', '--name-only', '-z', '--no-renames', `${base}..${after}`], { cwd: workspace, env })
      : await git(['diff-tree', '--no-commit-id', '--name-only', '-r', '-z', '--root', after], {
          cwd: workspace,
          env,
        });
    const files = out.split('\0').filter(Boolean);
    return files.length > cap ? null : files;
  } catch {
    if (!base) return null;
    // `before` is gone (force push) or was never fetched: fall back to the head commit's own files.
    return changedFiles(workspace, '0'.repeat(40), after, env, cap);
  }
}
