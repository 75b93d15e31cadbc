import { MissingTokenError } from '../../errors.ts';
import type { BuildStatus } from '../../model.ts';
import type { ApiCall, CommitStatus } from '../forge.ts';

// Gitea's (and Forgejo's) states: pending, success, error, failure, warning.
const STATE: Record<BuildStatus, string> = {
  'pending-approval': 'pending',
  queued: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  error: 'error',
  canceled: 'error',
  // Like GitHub: a skipped build must not block a required check.
  skipped: 'success',
};

/** `POST /api/v1/repos/{owner}/{repo}/statuses/{sha}` under the forge's web base URL. */
export function giteaCommitStatus(
  s: CommitStatus,
  base: string,
  token: string | undefined,
  tokenEnv: string,
): ApiCall {
  if (!token)
    throw new MissingTokenError(`${tokenEnv} is not set; commit statuses need a token with write access`);
  const [owner, repo] = s.repository.split('/').map(encodeURIComponent);
  return {
    url: `${base.replace(/\/+$/, '')}/api/v1/repos/${owner}/${repo}/statuses/${s.sha}`,
    headers: { authorization: `token ${token}` },
    body: JSON.stringify({
      state: STATE[s.status],
      target_url: s.targetUrl,
      description: s.description,
      context: s.context,
    }),
  };
}
