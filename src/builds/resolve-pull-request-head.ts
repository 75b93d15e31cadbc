import type { Config } from '../config.ts';
import type { PullRequestEvent } from '../core/event.ts';
import { RepositoryUnavailableError } from '../errors.ts';
import { pullRequestSource } from '../forges/pull-request-source.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import { gitEnv, lsRemote } from '../runner/git.ts';
import { cloneUrlFor } from './clone-url.ts';

/** The event with its full head commit, or why nothing builds. */
export type ResolvedHead = { event: PullRequestEvent } | { skipped: string };

/** How long the receiver waits for a source repository before answering 502 (forges give up at ~10 s). */
const TIMEOUT_MS = 8_000;

/**
 * A pull request whose forge named its head by an abbreviated id (Bitbucket Cloud) gets its full commit
 * id here, before anything is stored: the head of its source (`pullRequestSource`: the source branch in
 * the pipeline's clone URL, or in the fork's) must start with the prefix the signed webhook named. When
 * the branch moved on since, the update that moved it builds the newer commit, so this one builds
 * nothing; pushci never guesses which commit a prefix meant. The base becomes the target branch's head
 * now (path filters compare from the merge base, which is the same for any later target commit).
 * An event with a full head id is returned as it is.
 */
export async function resolvePullRequestHead(
  event: PullRequestEvent,
  def: Pick<Pipeline, 'cloneUrl'>,
  config: Readonly<Config>,
  timeoutMs = TIMEOUT_MS,
): Promise<ResolvedHead> {
  if (!event.abbreviated) return { event };
  const pr = event.pullRequest;
  const cloneUrl = cloneUrlFor(def, event.forge, event.repository, config);
  const source = pullRequestSource(event.forge, pr, cloneUrl, config);
  if (!source)
    return {
      skipped: `pull request #${pr.number}: its source repository ${pr.head_repository} cannot be fetched (a deleted fork, or a name pushci builds no clone URL from)`,
    };
  const env = gitEnv(config.env);
  const signal = AbortSignal.timeout(timeoutMs);
  const [head, base] = await Promise.all([
    lsRemote(source.url, source.ref, env, signal).catch((err: Error) => {
      throw new RepositoryUnavailableError(
        `could not read branch ${pr.source_branch} of ${pr.head_repository} to resolve commit ${event.after} of pull request #${pr.number} (${signal.aborted ? `no answer within ${timeoutMs / 1000} s` : err.message}); redeliver later`,
      );
    }),
    lsRemote(cloneUrl, `refs/heads/${pr.target_branch}`, env, signal).catch(() => null),
  ]);
  if (!head)
    return {
      skipped: `pull request #${pr.number}: branch ${pr.source_branch} is gone from ${pr.head_repository}, so commit ${event.after} cannot be fetched`,
    };
  if (!head.startsWith(event.after))
    return {
      skipped: `pull request #${pr.number}: branch ${pr.source_branch} moved on from ${event.after} to ${head.slice(0, 12)}; the update that moved it builds the newer commit`,
    };
  const { abbreviated: _, ...rest } = event;
  return { event: { ...rest, after: head, before: base ?? '0'.repeat(head.length) } };
}
