import { defaultBranch } from './git.ts';

/** How long a worker trusts what it learned about a repository's default branch. */
const TTL_MS = 10 * 60_000;

/**
 * The default branch of the repository at `url` as a ref (`refs/heads/main`), from the remote's HEAD
 * (`git ls-remote --symref`), remembered per URL for ten minutes; null when the remote does not say.
 * Caches saved on that branch are readable by every other ref (GitHub's rule).
 */
export function defaultBranchResolver(now: () => number = Date.now) {
  const known = new Map<string, { ref: string | null; at: number }>();
  return async (url: string, env: Record<string, string>): Promise<string | null> => {
    const hit = known.get(url);
    if (hit && now() - hit.at < TTL_MS) return hit.ref;
    const branch = await defaultBranch(url, env).catch(() => null);
    const ref = branch ? `refs/heads/${branch}` : null;
    known.set(url, { ref, at: now() });
    return ref;
  };
}
