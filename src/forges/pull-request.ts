import type { PullRequestAction, PullRequestEvent } from '../core/event.ts';
import { MalformedPayloadError } from '../errors.ts';
import type { ForgeName } from '../model.ts';
import { optionalString, requireBranch, requireSha, requireString } from './payload.ts';

/** A pull request as each forge's parser reads it, before it is checked. */
export interface RawPullRequest {
  forge: ForgeName;
  deliveryId: string;
  /** The base repository (the pipeline's). */
  repository: unknown;
  number: unknown;
  action: PullRequestAction;
  title: unknown;
  sourceBranch: unknown;
  targetBranch: unknown;
  /** The repository the change comes from; null when the forge says it is gone (a deleted fork). */
  headRepository: unknown;
  /** The forge's own verdict, from repository ids where it has them. */
  fork: boolean;
  head: unknown;
  /** The target branch's commit, or null when the payload has none (GitLab). */
  base: unknown;
  actor: unknown;
  /** The forge's PR ref name (`refs/pull/7/head`): recorded as the build's ref, never fetched as given. */
  ref: string;
  /** `head` (and `base`) are abbreviated commit ids (Bitbucket Cloud): see `PullRequestEvent.abbreviated`. */
  abbreviated?: true;
}

const ABBREVIATED = /^[0-9a-f]{7,64}$/;

function requirePrefix(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ABBREVIATED.test(value))
    throw new MalformedPayloadError(`${field} must be a hex commit id of 7 to 64 characters`);
  return value;
}

/** Checks and normalises what a forge parsed into the one pull request event. */
export function pullRequestEvent(r: RawPullRequest): PullRequestEvent {
  const number = r.number;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1)
    throw new MalformedPayloadError('the pull request number must be a positive integer');
  const repository = requireString(r.repository, 'repository', 300);
  const headRepository =
    r.headRepository === null ? '(deleted fork)' : requireString(r.headRepository, 'head repository', 300);
  const after = r.abbreviated ? requirePrefix(r.head, 'head commit') : requireSha(r.head, 'head commit');
  // An abbreviated base is resolved with the head (as the target branch's commit), zeros until then.
  const before =
    r.base === null || r.abbreviated ? '0'.repeat(after.length) : requireSha(r.base, 'base commit');
  return {
    kind: 'pull_request',
    forge: r.forge,
    deliveryId: r.deliveryId,
    repository,
    ref: r.ref,
    before,
    after,
    headMessage: null,
    pusher: optionalString(r.actor, 200),
    pullRequest: {
      number,
      action: r.action,
      title: optionalString(r.title, 1000),
      source_branch: requireBranch(r.sourceBranch, 'source branch'),
      target_branch: requireBranch(r.targetBranch, 'target branch'),
      head_repository: headRepository,
      // A deleted head repository cannot be trusted to be the base.
      fork: r.fork || r.headRepository === null,
    },
    ...(r.abbreviated ? { abbreviated: true as const } : {}),
  };
}

/** Two repositories are the same when their ids agree, or (without ids) their names do, ignoring case. */
export function sameRepository(
  a: { id: unknown; name: unknown },
  b: { id: unknown; name: unknown },
): boolean {
  if (a.id !== undefined && a.id !== null && b.id !== undefined && b.id !== null) return a.id === b.id;
  return (
    typeof a.name === 'string' && typeof b.name === 'string' && a.name.toLowerCase() === b.name.toLowerCase()
  );
}
