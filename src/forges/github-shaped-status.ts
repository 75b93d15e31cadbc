import type { BuildStatus } from '../model.ts';
import type { CommitStatus } from './forge.ts';

// The states GitHub's statuses API takes, and Gitea's (and Forgejo's) which copied it (Gitea adds `warning`).
const STATE: Record<BuildStatus, string> = {
  'pending-approval': 'pending',
  queued: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  error: 'error',
  canceled: 'error',
  // There is no "skipped" state; success keeps a required check from blocking a skipped build.
  skipped: 'success',
};

/** The JSON body of `POST …/repos/{owner}/{repo}/statuses/{sha}` on GitHub and Gitea. */
export function githubShapedStatusBody(s: CommitStatus): string {
  return JSON.stringify({
    state: STATE[s.status],
    target_url: s.targetUrl,
    description: s.description,
    context: s.context,
  });
}
