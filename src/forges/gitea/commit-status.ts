import { MissingTokenError } from '../../errors.ts';
import type { ApiCall, CommitStatus } from '../forge.ts';
import { githubShapedStatusBody } from '../github-shaped-status.ts';

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
    body: githubShapedStatusBody(s),
  };
}
