import type { Config } from '../config.ts';
import type { BuildStatus } from '../model.ts';
import type { StatusDelivery } from './emit.ts';

const GITHUB_STATE: Record<BuildStatus, string> = {
  queued: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  error: 'error',
  canceled: 'error',
  // GitHub has no "skipped" status; success keeps required checks from blocking a skipped build.
  skipped: 'success',
};

const GITLAB_STATE: Record<BuildStatus, string> = {
  queued: 'pending',
  running: 'running',
  success: 'success',
  failure: 'failed',
  error: 'failed',
  canceled: 'canceled',
  skipped: 'skipped',
};

export class MissingTokenError extends Error {}

/** The forge API call that sets a commit status: URL, headers and JSON body. */
export function statusRequest(
  d: StatusDelivery,
  config: Pick<Config, 'githubToken' | 'gitlabToken' | 'githubApiUrl' | 'gitlabApiUrl'>,
): { url: string; headers: Record<string, string>; body: string } {
  // GitHub cuts descriptions at 140 characters and refuses longer ones; so do we, visibly.
  const description = d.description.length > 140 ? `${d.description.slice(0, 139)}…` : d.description;
  if (d.forge === 'github') {
    if (!config.githubToken)
      throw new MissingTokenError('GITHUB_TOKEN is not set; commit statuses need a token with repo:status');
    const [owner, repo] = d.repository.split('/').map(encodeURIComponent);
    return {
      url: `${config.githubApiUrl.replace(/\/+$/, '')}/repos/${owner}/${repo}/statuses/${d.sha}`,
      headers: {
        authorization: `Bearer ${config.githubToken}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
      },
      body: JSON.stringify({
        state: GITHUB_STATE[d.status],
        target_url: d.targetUrl,
        description,
        context: d.context,
      }),
    };
  }
  if (d.forge !== 'gitlab')
    throw new MissingTokenError(`commit statuses are supported for GitHub and GitLab, not ${d.forge}`);
  if (!config.gitlabToken)
    throw new MissingTokenError('GITLAB_TOKEN is not set; commit statuses need a token with the api scope');
  return {
    url: `${config.gitlabApiUrl.replace(/\/+$/, '')}/projects/${encodeURIComponent(d.repository)}/statuses/${d.sha}`,
    headers: { 'private-token': config.gitlabToken },
    body: JSON.stringify({
      state: GITLAB_STATE[d.status],
      ref: d.ref,
      name: d.context,
      target_url: d.targetUrl,
      description,
    }),
  };
}
