import { pick } from '../payload.ts';

/**
 * When a GitHub delivery's push happened, as its signed body says (ms since the epoch), or null when
 * it does not say: `repository.pushed_at` of a push (Unix seconds; an ISO 8601 string in some
 * payloads), `pull_request.updated_at` of a pull request (ISO 8601). Not `head_commit.timestamp`: that
 * is the commit's own date, and an old commit pushed to a new branch today is a new push.
 */
export function githubPushTime(
  event: 'push' | 'pull_request',
  payload: Record<string, unknown>,
): number | null {
  const value =
    event === 'push' ? pick(payload, 'repository', 'pushed_at') : pick(payload, 'pull_request', 'updated_at');
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value * 1000 : null;
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
