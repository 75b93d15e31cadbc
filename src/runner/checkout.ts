import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
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
  /** Commits this worker already saw in a mirror (`<mirror>\n<sha>`), so it need not ask git again. */
  known?: Set<string>;
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
  // A file check, not a git call: every spawn blocks the worker's event loop for milliseconds.
  if (existsSync(join(mirror, 'HEAD'))) return;
  await mkdir(join(mirror, '..'), { recursive: true });
  // Built aside and renamed, so concurrent workers never see half a repository.
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
 * Fetches `sha` into the per-URL bare mirror (only what is missing), then adds a detached worktree of
 * it as the workspace: one git call, objects shared, nothing copied. The second build of a repository
 * fetches only new objects instead of cloning again.
 */
export async function checkout(o: CheckoutOptions): Promise<void> {
  const mirror = mirrorPath(o.dataDir, o.cloneUrl);
  const env = o.env;
  const sig = o.signal ? { signal: o.signal } : {};
  await ensureMirror(mirror, env);
  const wanted = [o.sha, ...(o.alsoFetch ?? [])];
  const missing: string[] = [];
  for (const sha of wanted) {
    if (o.known?.has(`${mirror}\n${sha}`)) continue;
    if (await hasCommit(mirror, sha, env)) o.known?.add(`${mirror}\n${sha}`);
    else missing.push(sha);
  }
  if (missing.length > 0) {
    const opts = { cwd: mirror, env, redact: o.cloneUrl, ...sig };
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
        opts,
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
          opts,
        ).catch((e: Error) => {
          throw new GitError(`${(err as Error).message}; ${e.message}`);
        });
      }
    }
    if (!(await hasCommit(mirror, o.sha, env)))
      throw new GitError(`commit ${o.sha} is not in the repository`);
    o.known?.add(`${mirror}\n${o.sha}`);
  }
  await mkdir(join(o.workspace, '..'), { recursive: true });
  await git(['worktree', 'add', '-q', '--detach', '--force', o.workspace, o.sha], {
    cwd: mirror,
    env,
    ...sig,
  });
}

/** Removes a workspace and its worktree entry in the mirror (files only, no git call). */
export async function removeWorkspace(dataDir: string, cloneUrl: string, workspace: string): Promise<void> {
  await rm(workspace, { recursive: true, force: true });
  await rm(join(mirrorPath(dataDir, cloneUrl), 'worktrees', basename(workspace)), {
    recursive: true,
    force: true,
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
