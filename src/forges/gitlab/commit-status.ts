import type { Config } from '../../config.ts';
import { MissingTokenError } from '../../errors.ts';
import type { BuildStatus } from '../../model.ts';
import type { ApiCall, CommitStatus } from '../forge.ts';

const STATE: Record<BuildStatus, string> = {
  'pending-approval': 'pending',
  queued: 'pending',
  running: 'running',
  success: 'success',
  failure: 'failed',
  error: 'failed',
  canceled: 'canceled',
  skipped: 'skipped',
};

/** `POST /projects/{id}/statuses/{sha}`. */
export function gitlabCommitStatus(s: CommitStatus, config: Readonly<Config>): ApiCall {
  if (!config.gitlabToken)
    throw new MissingTokenError('GITLAB_TOKEN is not set; commit statuses need a token with the api scope');
  return {
    url: `${config.gitlabApiUrl.replace(/\/+$/, '')}/projects/${encodeURIComponent(s.repository)}/statuses/${s.sha}`,
    headers: { 'private-token': config.gitlabToken },
    body: JSON.stringify({
      state: STATE[s.status],
      ref: s.ref,
      name: s.context,
      target_url: s.targetUrl,
      description: s.description,
    }),
  };
}
