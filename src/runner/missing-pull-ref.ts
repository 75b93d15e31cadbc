import { GitError } from './git.ts';

/** git's words when a fetched ref does not exist at the remote. */
const NO_SUCH_REF = /couldn't find remote ref|no such ref|not our ref/i;

/**
 * A failed fetch of a pull request's ref, as advice when the ref is missing: a clone URL pointing at a
 * local clone or a mirror has no `refs/pull/N/head` unless it was fetched there (forges keep it, plain
 * clones do not), and git's own "couldn't find remote ref" says neither why nor what to do. Any other
 * failure is returned as it was.
 */
export function missingPullRef(err: unknown, pullRef: string, sha: string, cloneUrl: string): unknown {
  // Bitbucket's source branch is a branch like any other: git's words say enough there.
  if (!(err instanceof GitError) || !NO_SUCH_REF.test(err.message) || pullRef.startsWith('refs/heads/'))
    return err;
  const all = pullRef.replace(/\/\d+\//, '/*/');
  const local = /^(\/|file:)/.test(cloneUrl);
  const where = local
    ? `the repository at ${cloneUrl.replace(/^file:\/\//, '')}`
    : "the pipeline's clone-url";
  return new GitError(
    `${pullRef} is not in ${where}, so pull request commit ${sha} cannot be fetched (${err.message}). ` +
      `pushci fetches a pull request's head from the ref the forge keeps it under; ${local ? 'a local clone' : 'a mirror'} has it only if it was fetched there: ` +
      `run git fetch origin '+${all}:${all}' in that repository (keep it current, or point clone-url at the forge), ` +
      `or, to try a pull request by hand, git update-ref ${pullRef} ${sha} there`,
  );
}
