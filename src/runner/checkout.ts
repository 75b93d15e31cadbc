import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PullRequestSource } from '../forges/pull-request-source.ts';
import { GitError, git } from './git.ts';
import { missingPullRef } from './missing-pull-ref.ts';
import type { SpawnFn } from './spawner/start-spawner.ts';
import { asyncFileWork, type FileOp, type FileWork } from './files/file-work.ts';

export interface CheckoutOptions {
  dataDir: string;
  cloneUrl: string;
  sha: string;
  /** Also fetch these commits (e.g. the push's `before`, to list changed files); missing ones are ignored. */
  alsoFetch?: string[];
  /**
   * Where a pull request's head is (`pullRequestSource`: the forge's pull request ref, or Bitbucket's
   * source branch), made by pushci: `sha` is fetched through it, never by a URL or ref a payload named,
   * and must be the commit it points at (or an ancestor of it, when the pull request moved on since).
   */
  pull?: PullRequestSource;
  workspace: string;
  env: Record<string, string>;
  signal?: AbortSignal;
  /** Commits this worker already saw in a mirror (`<mirror>\n<sha>`), so it need not ask git again. */
  known?: Set<string>;
  /** Starts the checkout's git through this (the worker's spawner) instead of forking the worker. */
  spawn?: SpawnFn;
  /** Runs fetches into one mirror one at a time (within this worker). */
  serialize?: <T>(key: string, fn: () => Promise<T>) => Promise<T>;
  /** Writes the checkout's `.git` skeleton (default: node:fs/promises on the event loop). */
  files?: FileWork;
  /** The caller wrote the skeleton already (`checkoutSkeleton`, in a batch of file work of its own). */
  skeletonWritten?: boolean;
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

async function isAncestor(
  mirror: string,
  a: string,
  b: string,
  env: Record<string, string>,
): Promise<boolean> {
  try {
    await git(['merge-base', '--is-ancestor', a, b], { cwd: mirror, env });
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Fetches commits by id into the mirror (falling back to all branches and tags for servers that refuse
 * that), retrying briefly: another process fetching into the same mirror holds git's ref locks.
 */
async function fetchInto(
  mirror: string,
  url: string,
  shas: string[],
  need: string,
  env: Record<string, string>,
  sig: { signal?: AbortSignal },
  /** Whether `need` is there, after a failed fetch (default: its commit object is). */
  there: (sha: string) => Promise<boolean> = (sha) => hasCommit(mirror, sha, env),
) {
  const opts = { cwd: mirror, env, redact: url, ...sig };
  let last: Error | null = null;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await sleep(250 * attempt);
    try {
      await git(
        [
          'fetch',
          '-q',
          '--no-tags',
          '--no-write-fetch-head',
          url,
          ...shas.map((s) => `+${s}:refs/pushci/${s}`),
        ],
        opts,
      );
    } catch (err) {
      last = err as Error;
      if (!(await there(need))) {
        await git(
          [
            'fetch',
            '-q',
            '--no-write-fetch-head',
            url,
            '+refs/heads/*:refs/heads/*',
            '+refs/tags/*:refs/tags/*',
          ],
          opts,
        ).catch((e: Error) => {
          // An unreachable repository fails both fetches alike: say it once.
          const first = (err as Error).message;
          last = e.message === first ? (err as Error) : new GitError(`${first}; ${e.message}`);
        });
      }
    }
    if (await there(need)) return;
  }
  throw last ?? new GitError(`commit ${need} is not in the repository`);
}

/**
 * The workspace's `.git` as file work (the checkout's first part, no git needed): a repository written
 * by hand (no `git init`: no template hooks, one spawn fewer), HEAD detached at the commit; `git
 * read-tree --reset -u` then fills the index and the files. Only what git needs to see a repository is
 * made (`refs/heads` and `refs/tags` come with the first branch or tag), and read-tree, unlike `reset
 * --hard`, rewrites neither HEAD nor ORIG_HEAD: every file made and removed per job costs the kernel an
 * inode's allocation (see docs/PERFORMANCE.md).
 */
export function checkoutSkeleton(
  o: Pick<CheckoutOptions, 'dataDir' | 'cloneUrl' | 'sha' | 'workspace'>,
): FileOp[] {
  const mirror = mirrorPath(o.dataDir, o.cloneUrl);
  const dotGit = join(o.workspace, '.git');
  return [
    { op: 'mkdir', path: join(dotGit, 'objects', 'info'), mode: 0o700 },
    { op: 'mkdir', path: join(dotGit, 'refs') },
    {
      op: 'write',
      path: join(dotGit, 'objects', 'info', 'alternates'),
      data: `${join(mirror, 'objects')}\n`,
    },
    { op: 'write', path: join(dotGit, 'HEAD'), data: `${o.sha}\n` },
    {
      op: 'write',
      path: join(dotGit, 'config'),
      data: '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n',
    },
  ];
}

/**
 * Fetches `sha` into the per-URL bare mirror (only what is missing), then makes the workspace a
 * repository of its own that borrows the mirror's objects (`objects/info/alternates`): nothing is
 * copied, and the step's `.git` (index, HEAD, refs, hooks, config) is its own, so nothing it does
 * there reaches the mirror or another job's checkout. The second build of a repository fetches only
 * new objects instead of cloning again.
 */
export async function checkout(o: CheckoutOptions): Promise<void> {
  const mirror = mirrorPath(o.dataDir, o.cloneUrl);
  const env = o.env;
  const sig = o.signal ? { signal: o.signal } : {};
  await ensureMirror(mirror, env);
  const inTurn = <T>(fn: () => Promise<T>): Promise<T> => (o.serialize ? o.serialize(mirror, fn) : fn());
  const wanted = [o.sha, ...(o.alsoFetch ?? [])];
  const missing: string[] = [];
  // A known commit came with a fetch this worker finished. The others are asked about in turn with the
  // fetches into this mirror: a fetch of a few objects unpacks them one by one, commits first, so a
  // commit seen during another job's fetch may not have its tree and files yet (that job's read-tree
  // then failed with "unable to read tree").
  const check = async () => {
    for (const sha of wanted) {
      if (o.known?.has(`${mirror}\n${sha}`)) continue;
      if (await hasCommit(mirror, sha, env)) o.known?.add(`${mirror}\n${sha}`);
      else missing.push(sha);
    }
  };
  if (!wanted.every((sha) => o.known?.has(`${mirror}\n${sha}`))) await inTurn(check);
  const fetchPull = async (pull: PullRequestSource) => {
    const { url, ref: pullRef, local } = pull;
    await git(['fetch', '-q', '--no-tags', '--no-write-fetch-head', url, `+${pullRef}:${local}`], {
      cwd: mirror,
      env,
      redact: url,
      ...sig,
    }).catch((err: unknown) => {
      throw missingPullRef(err, pullRef, o.sha, url);
    });
    const head = (
      await git(['rev-parse', '--verify', '-q', `${local}^{commit}`], { cwd: mirror, env })
    ).trim();
    if (head !== o.sha && !(await isAncestor(mirror, o.sha, head, env)))
      throw new GitError(
        `${pullRef} points at ${head}, and ${o.sha} (the commit the webhook named) is not part of it; a newer build of the pull request runs its new head`,
      );
  };
  if (o.pull && missing.includes(o.sha)) {
    const pull = o.pull;
    await inTurn(async () => {
      if (!(await hasCommit(mirror, o.sha, env))) await fetchPull(pull);
    });
    missing.splice(missing.indexOf(o.sha), 1);
  }
  if (missing.length > 0) {
    const fetch = async () => {
      // Another job may have fetched it while we waited for the mirror.
      const still = [];
      for (const sha of missing) if (!(await hasCommit(mirror, sha, env))) still.push(sha);
      if (still.length > 0) await fetchInto(mirror, o.cloneUrl, still, o.sha, env, sig);
      o.known?.add(`${mirror}\n${o.sha}`);
    };
    await inTurn(fetch);
  }
  // The workspace's `.git` (checkoutSkeleton), then git fills the index and the files.
  if (!o.skeletonWritten) await (o.files ?? asyncFileWork).apply(checkoutSkeleton(o));
  const readTree = () =>
    git(['read-tree', '--reset', '-u', o.sha], {
      cwd: o.workspace,
      env,
      ...sig,
      ...(o.spawn ? { spawn: o.spawn } : {}),
    });
  try {
    await readTree();
  } catch (err) {
    if (o.signal?.aborted || !(err instanceof GitError)) throw err;
    // The commit is in the mirror without all of its tree: another process's fetch into this mirror
    // (a worker sharing the data dir) is still unpacking it, or one was killed halfway. Fetching it
    // again (git checks that everything the commit needs is there, and brings what is not) makes the
    // mirror whole, whichever it was; then read-tree is tried once more.
    o.known?.delete(`${mirror}\n${o.sha}`);
    try {
      // A fetch that failed (another process holding the ref's lock, say) is enough only when the
      // commit now has every object it needs, not just its own.
      const whole = (sha: string) =>
        git(['rev-list', '--quiet', '--objects', sha, '--not', '--all'], { cwd: mirror, env }).then(
          () => true,
          () => false,
        );
      await inTurn(async () => {
        if (!o.pull) return fetchInto(mirror, o.cloneUrl, [o.sha], o.sha, env, sig, whole);
        // The pull request's local ref is shared by the workers of the data dir: a fetch refused its
        // lock is enough once the commit is whole.
        await fetchPull(o.pull).catch(async (e: unknown) => {
          if (o.signal?.aborted || !(await whole(o.sha))) throw e;
        });
      });
    } catch (again) {
      // read-tree's own reason first (a full disk, say), then why fetching did not help.
      if (o.signal?.aborted) throw again;
      throw new GitError(`${err.message}; fetching the commit again failed too: ${(again as Error).message}`);
    }
    await readTree();
  }
}

/**
 * The commit a branch of the clone URL points at now, fetched into the mirror (for a merge request whose
 * webhook names no target commit: its whole change is measured from the merge base with this). Null when
 * the branch is gone or the name is not a valid branch name. The name is checked again here, and it only
 * ever forms the source side of a refspec that starts with `refs/heads/`; the local ref is a hash.
 */
export async function fetchBranchHead(o: {
  dataDir: string;
  cloneUrl: string;
  branch: string;
  env: Record<string, string>;
  signal?: AbortSignal;
  serialize?: <T>(key: string, fn: () => Promise<T>) => Promise<T>;
}): Promise<string | null> {
  const mirror = mirrorPath(o.dataDir, o.cloneUrl);
  const ref = `refs/heads/${o.branch}`;
  try {
    await git(['check-ref-format', ref], { env: o.env });
  } catch {
    return null;
  }
  const local = `refs/pushci/branch-heads/${createHash('sha256').update(o.branch).digest('hex').slice(0, 24)}`;
  const sig = o.signal ? { signal: o.signal } : {};
  const run = async () => {
    await ensureMirror(mirror, o.env);
    await git(['fetch', '-q', '--no-tags', '--no-write-fetch-head', o.cloneUrl, `+${ref}:${local}`], {
      cwd: mirror,
      env: o.env,
      redact: o.cloneUrl,
      ...sig,
    });
    return (
      await git(['rev-parse', '--verify', '-q', `${local}^{commit}`], { cwd: mirror, env: o.env })
    ).trim();
  };
  try {
    return await (o.serialize ? o.serialize(mirror, run) : run());
  } catch (err) {
    if (o.signal?.aborted) throw err;
    return null;
  }
}

/** The object store a checkout borrows (its steps need to read it; none may write it). */
export function mirrorObjects(dataDir: string, cloneUrl: string): string {
  return join(mirrorPath(dataDir, cloneUrl), 'objects');
}

/**
 * Files changed between two commits in the workspace, or null when unknown (no base, or more than `cap`).
 * With `mergeBase`, from the commits' merge base (a pull request's whole change, whatever the target
 * branch did since).
 */
export async function changedFiles(
  workspace: string,
  before: string,
  after: string,
  env: Record<string, string>,
  cap: number,
  mergeBase = false,
): Promise<string[] | null> {
  const base = /^0+$/.test(before) ? null : before;
  try {
    const out = base
      ? await git(
          ['diff', '--name-only', '-z', '--no-renames', `${base}${mergeBase ? '...' : '..'}${after}`],
          {
            cwd: workspace,
            env,
          },
        )
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
