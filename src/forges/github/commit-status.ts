import type { Config } from '../../config.ts';
import { MissingTokenError } from '../../errors.ts';
import type { ApiCall, CommitStatus } from '../forge.ts';
import { githubShapedStatusBody } from '../github-shaped-status.ts';

/** `POST /repos/{owner}/{repo}/statuses/{sha}`. */
export function githubCommitStatus(s: CommitStatus, config: Readonly<Config>): ApiCall {
  if (!config.githubToken)
    throw new MissingTokenError('GITHUB_TOKEN is not set; commit statuses need a token with repo:status');
  const [owner, repo] = s.repository.split('/').map(encodeURIComponent);
  return {
    url: `${config.githubApiUrl.replace(/\/+$/, '')}/repos/${owner}/${repo}/statuses/${s.sha}`,
    headers: {
      authorization: `Bearer ${config.githubToken}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
    },
    body: githubShapedStatusBody(s),
  };
}
