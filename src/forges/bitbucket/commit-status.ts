import { MissingTokenError } from '../../errors.ts';
import type { BuildStatus } from '../../model.ts';
import type { ApiCall, CommitStatus } from '../forge.ts';

// Bitbucket Cloud's build states: INPROGRESS, SUCCESSFUL, FAILED, STOPPED.
const STATE: Record<BuildStatus, string> = {
  'pending-approval': 'INPROGRESS',
  queued: 'INPROGRESS',
  running: 'INPROGRESS',
  success: 'SUCCESSFUL',
  failure: 'FAILED',
  error: 'FAILED',
  canceled: 'STOPPED',
  // As on the other forges: a skipped build must not block a merge check.
  skipped: 'SUCCESSFUL',
};

/**
 * Bitbucket Cloud's build status, `POST /2.0/repositories/{workspace}/{repo}/commit/{sha}/statuses/build`:
 * one status per `key` (the context, `pushci/<pipeline>`) on the commit, replaced by each later post.
 */
export function bitbucketCommitStatus(s: CommitStatus, apiBase: string, token: string | undefined): ApiCall {
  if (!token)
    throw new MissingTokenError('BITBUCKET_TOKEN is not set; Bitbucket build statuses need an access token');
  const [workspace, repo] = s.repository.split('/').map(encodeURIComponent);
  return {
    url: `${apiBase.replace(/\/+$/, '')}/2.0/repositories/${workspace}/${repo}/commit/${s.sha}/statuses/build`,
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify({
      key: s.context,
      state: STATE[s.status],
      name: s.context,
      url: s.targetUrl,
      description: s.description,
    }),
  };
}
