import type { PullRequestAction, PushEvent } from '../core/event.ts';
import type { ForgeName } from '../model.ts';
import type { ForgeResult } from './forge.ts';
import { optionalString, pick, requireSha, requireString, peeledTag } from './payload.ts';
import { pushEvent } from './push-event.ts';
import { pullRequestEvent, sameRepository } from './pull-request.ts';

/**
 * How one forge's GitHub-shaped payloads (GitHub, and Gitea/Forgejo which copied them) differ. Everything
 * else in a push or a `pull_request` delivery is read the same way.
 */
export interface GithubDialect {
  forge: ForgeName;
  /** The `action` values that build, and the action each one is (Gitea says `synchronized`). */
  actions: ReadonlyMap<string, PullRequestAction>;
  /** Where the push names its pusher: `pusher.name` (GitHub) or `pusher.login` (Gitea). */
  pusher: 'name' | 'login';
  /** GitHub sends `deleted`, `created` and `forced`; Gitea does not, so only the zero commit ids say. */
  pushFlags: boolean;
  /** Gitea also sends `head.repo_id`, `base.repo_id` and `merge_base`, which win when present. */
  giteaFields: boolean;
}

/** A push delivery as a `PushEvent`. */
export function githubShapedPush(
  d: GithubDialect,
  p: Record<string, unknown>,
  deliveryId: string,
): PushEvent {
  const ref = requireString(p.ref, 'ref');
  // An annotated tag's push names the tag object in `after`; head_commit (when sent) is the commit it
  // tags, which is what builds and what every status and payload names.
  const after = peeledTag(ref, requireSha(p.after, 'after'), pick(p, 'head_commit', 'id'));
  const before = requireSha(p.before, 'before');
  const repository = requireString(pick(p, 'repository', 'full_name'), 'repository.full_name', 300);
  return pushEvent({
    forge: d.forge,
    deliveryId,
    repository,
    ref,
    before,
    after,
    ...(d.pushFlags
      ? { deleted: p.deleted === true, created: p.created === true, forced: p.forced === true }
      : {}),
    headMessage: optionalString(pick(p, 'head_commit', 'message')),
    pusher: optionalString(pick(p, 'pusher', d.pusher), 200),
  });
}

/**
 * A `pull_request` delivery: opened, pushed to or reopened builds (the head is fetched via
 * refs/pull/N/head); any other action is acknowledged and ignored.
 */
export function githubShapedPullRequest(
  d: GithubDialect,
  p: Record<string, unknown>,
  deliveryId: string,
): ForgeResult {
  const action = typeof p.action === 'string' ? d.actions.get(p.action) : undefined;
  if (!action) {
    const names = [...d.actions.keys()];
    return {
      kind: 'ignored',
      event: 'pull_request',
      deliveryId,
      reason: `pull request ${String(p.action).slice(0, 40)}: only ${names.slice(0, -1).join(', ')} and ${names.at(-1)} build`,
    };
  }
  const pr = pick(p, 'pull_request');
  const headRepo = pick(pr, 'head', 'repo');
  const number = pick(pr, 'number') ?? p.number;
  const gitea = (...path: string[]) => (d.giteaFields ? pick(pr, ...path) : undefined);
  const baseRepoId = d.giteaFields ? pick(pr, 'base', 'repo_id') : pick(pr, 'base', 'repo', 'id');
  const event = pullRequestEvent({
    forge: d.forge,
    deliveryId,
    repository: pick(p, 'repository', 'full_name'),
    number,
    action,
    title: pick(pr, 'title'),
    sourceBranch: pick(pr, 'head', 'ref'),
    targetBranch: pick(pr, 'base', 'ref'),
    headRepository: headRepo === null ? null : pick(headRepo, 'full_name'),
    fork:
      headRepo === null ||
      !sameRepository(
        { id: gitea('head', 'repo_id') ?? pick(headRepo, 'id'), name: pick(headRepo, 'full_name') },
        { id: baseRepoId ?? pick(p, 'repository', 'id'), name: pick(p, 'repository', 'full_name') },
      ),
    head: pick(pr, 'head', 'sha'),
    // The merge base when Gitea sends it: path filters then see exactly the pull request's change.
    base: gitea('merge_base') ?? pick(pr, 'base', 'sha'),
    actor: pick(p, 'sender', 'login'),
    ref: `refs/pull/${String(number)}/head`,
  });
  return { kind: 'build', deliveryId, events: [event] };
}
