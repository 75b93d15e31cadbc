import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { parseActionRef, type ActionRef } from '../pipelines/action-ref.ts';
import type { ActionHolds, ActionsCache } from './actions-cache.ts';
import { diskUsage } from './disk-usage.ts';
import { git, GitError } from './git.ts';

type RemoteRef = Extract<ActionRef, { kind: 'remote' }>;

export interface FetchedAction {
  /** The repository's files at the commit, on the worker (read-only to the steps). */
  dir: string;
  commit: string;
  /** Where it came from, for the log. */
  url: string;
  cached: boolean;
}

/** The key of a remote action's repository and ref. */
export const remoteKey = (r: RemoteRef) => `${r.owner}/${r.repo}@${r.ref}`;

/** A remote action's label: `owner/repo[/path]@ref`. */
export const remoteLabel = (r: RemoteRef) => `${r.owner}/${r.repo}${r.path ? `/${r.path}` : ''}@${r.ref}`;

/** The folder under the data dir that holds every fetched action, one folder per commit. */
export function actionsCacheDir(dataDir: string): string {
  return join(dataDir, 'actions');
}

/** The URLs an action's repository may be at: `<base>/<owner>/<repo>`, then with `.git`. */
export function actionUrls(base: string, ref: Pick<RemoteRef, 'owner' | 'repo'>): string[] {
  const b = base.replace(/\/+$/, '');
  return [`${b}/${ref.owner}/${ref.repo}`, `${b}/${ref.owner}/${ref.repo}.git`];
}

/**
 * Resolves `owner/repo@ref` to a commit and makes its files available under the data dir, fetched
 * by git on the worker (never through a job's network). Every value reaches git after `--` or as a
 * refspec built from the checked ref, so nothing in `uses:` can become an option. A commit is fetched
 * once: into a private folder, then renamed into place, so concurrent jobs never see half an action.
 */
export async function fetchAction(o: {
  dataDir: string;
  baseUrl: string;
  /** Owners allowed (case-insensitive); empty: any. */
  allow: readonly string[];
  ref: RemoteRef;
  env: Record<string, string>;
  signal?: AbortSignal;
  /** The size cap of the fetched actions, and the calling job's holds on them (taken before a lookup). */
  cache?: ActionsCache;
  holds?: ActionHolds;
}): Promise<FetchedAction | { problem: string }> {
  const { ref } = o;
  const name = `${ref.owner}/${ref.repo}@${ref.ref}`;
  // Checked again here, whoever calls: these strings become a URL, a refspec and a folder name.
  const again = parseActionRef(remoteLabel(ref));
  if ('problem' in again || again.kind !== 'remote' || remoteLabel(again) !== remoteLabel(ref))
    return { problem: `${name}: not a valid owner/repo@ref` };
  if (o.allow.length > 0 && !o.allow.some((a) => a.toLowerCase() === ref.owner.toLowerCase()))
    return {
      problem: `${name}: the owner "${ref.owner}" is not in PUSHCI_ACTIONS_ALLOW (${o.allow.join(', ')})`,
    };
  const sig = o.signal ? { signal: o.signal } : {};
  let url: string | null = null;
  let commit: string | null = null;
  let refspec: string | null = null;
  let lastError = '';
  for (const candidate of actionUrls(o.baseUrl, ref)) {
    try {
      const wanted = /^[0-9a-f]{40}$/.test(ref.ref)
        ? []
        : [`refs/tags/${ref.ref}`, `refs/tags/${ref.ref}^{}`, `refs/heads/${ref.ref}`];
      const out = await git(['ls-remote', '--', candidate, ...(wanted.length ? wanted : ['HEAD'])], {
        env: o.env,
        redact: candidate,
        ...sig,
      });
      url = candidate;
      if (wanted.length === 0) {
        commit = ref.ref;
        break;
      }
      const lines = out.split('\n').map((l) => l.split('\t') as [string, string]);
      const pick = (r: string) => lines.find((l) => l[1] === r)?.[0] ?? null;
      // An annotated tag's ref names the tag object; its peeled line names the commit.
      const tag = pick(`refs/tags/${ref.ref}^{}`) ?? pick(`refs/tags/${ref.ref}`);
      const branch = pick(`refs/heads/${ref.ref}`);
      commit = tag ?? branch;
      refspec = tag ? `refs/tags/${ref.ref}` : `refs/heads/${ref.ref}`;
      if (commit === null)
        return {
          problem: `${name}: the repository has no tag or branch "${ref.ref}" (${redact(candidate)})`,
        };
      break;
    } catch (err) {
      if (!(err instanceof GitError)) throw err;
      // git's message names the URL as <clone-url> (it may hold credentials): name it without them.
      lastError = err.message.split('<clone-url>').join(redact(candidate));
    }
  }
  if (url === null || commit === null)
    return {
      problem: `${name}: cannot reach the repository at ${actionUrls(o.baseUrl, ref).map(redact).join(' or ')} (PUSHCI_ACTIONS_URL): ${lastError}`,
    };
  const root = actionsCacheDir(o.dataDir);
  const dir = join(root, ref.owner, ref.repo, commit);
  if (!/^[0-9a-f]{40}$/.test(commit) || !dir.startsWith(root + sep))
    return { problem: `${name}: ${commit} is not a commit id` };
  // Held before it is looked up: the cache's trim never removes a folder a running job holds.
  await o.holds?.take(ref.owner, ref.repo, commit);
  if (await exists(dir)) {
    await o.cache?.used(dir);
    return { dir, commit, url, cached: true };
  }
  const tmp = join(root, `.tmp-${randomBytes(8).toString('hex')}`);
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  try {
    const opts = { cwd: tmp, env: o.env, redact: url, ...sig };
    // A commit named by its id must be one of this repository's own: a forge serves any commit of the
    // repository's fork network by id, so `allowed-owner/repo@<id of a commit pushed to a fork>` would
    // otherwise run a stranger's code under an allowed owner's name.
    if (refspec === null && !(await onBranchOrTag(root, url, commit, opts)))
      return {
        problem: `${name}: the commit is on no branch or tag of ${ref.owner}/${ref.repo}; a commit id must name one of the repository's own commits (a fork's commit is refused)`,
      };
    await git(['init', '-q', '--template='], opts);
    await git(['fetch', '-q', '--no-tags', '--depth', '1', '--', url, refspec ?? commit], opts);
    const got = await git(['rev-parse', '--verify', '-q', 'FETCH_HEAD^{commit}'], opts);
    if (got !== commit)
      return {
        problem: `${name}: the repository moved while it was fetched (${got}, not ${commit}); try again`,
      };
    await git(['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', commit], opts);
    // The steps get the files, not the repository.
    await rm(join(tmp, '.git'), { recursive: true, force: true });
    const bytes = (await diskUsage(tmp)) ?? undefined;
    await mkdir(join(root, ref.owner, ref.repo), { recursive: true, mode: 0o700 });
    try {
      await rename(tmp, dir);
    } catch (err) {
      // Another job put the same commit there first: theirs is as good.
      if (!(await exists(dir))) throw err;
    }
    await o.cache?.used(dir, bytes);
    void o.cache?.trim();
    return { dir, commit, url, cached: false };
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    return { problem: `${name}: fetching ${commit} failed: ${err.message}` };
  } finally {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * Whether `commit` is reachable from a branch or tag of the repository at `url`: the branches' and tags'
 * commits (no trees or files where the server can filter) fetched into a scratch repository, then listed.
 * The listing reads only the fetched commits, so nothing is fetched on demand.
 */
async function onBranchOrTag(
  root: string,
  url: string,
  commit: string,
  opts: { env: Record<string, string>; redact: string; signal?: AbortSignal },
): Promise<boolean> {
  const scratch = join(root, `.tmp-reach-${randomBytes(8).toString('hex')}`);
  await mkdir(scratch, { recursive: true, mode: 0o700 });
  try {
    const o = { ...opts, cwd: scratch, env: { ...opts.env, GIT_NO_LAZY_FETCH: '1' } };
    await git(['init', '-q', '--bare', '--template='], o);
    await git(
      [
        'fetch',
        '-q',
        '--no-tags',
        '--filter=tree:0',
        '--',
        url,
        '+refs/heads/*:refs/reach/heads/*',
        '+refs/tags/*:refs/reach/tags/*',
      ],
      o,
    );
    const listed = await git(['rev-list', '--glob=refs/reach/*'], o);
    return listed.split('\n').includes(commit);
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => {});
  }
}

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

/** A URL without its user:password part, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}
