import type { Forge } from '../forge.ts';
import { cloneUrlUnder } from '../forge.ts';
import { gitlabCommitStatus } from './commit-status.ts';
import { gitlabHooks } from './hooks.ts';
import { createGitlabInbound } from './inbound.ts';
import { sslVerificationLine } from '../ssl-verification-line.ts';
import { GITLAB_SETTINGS } from './settings.ts';

/** GitLab.com and self-managed GitLab. */
export const gitlab: Forge<typeof GITLAB_SETTINGS> = {
  name: 'gitlab',
  title: 'GitLab',
  settings: GITLAB_SETTINGS,
  webhookSecrets: (config) => [
    { env: 'GITLAB_WEBHOOK_TOKEN', values: config.gitlabTokens },
    { env: 'GITLAB_WEBHOOK_SIGNING_TOKEN', values: config.gitlabSigningTokens },
  ],
  inbound: (config) =>
    createGitlabInbound({ tokens: config.gitlabTokens, signingTokens: config.gitlabSigningTokens }),
  cloneUrl: (config, repository) => cloneUrlUnder(config.gitlabUrl, repository),
  commitStatus: gitlabCommitStatus,
  hooks: gitlabHooks,
  pullRequestRef: (number) => `refs/merge-requests/${number}/head`,
  setup: {
    secretEnv: 'GITLAB_WEBHOOK_TOKEN',
    instructions: ({ repository, hookUrl, secret }) => [
      `In GitLab: ${repository} → Settings → Webhooks → Add new webhook`,
      `  URL:           ${hookUrl}`,
      `  Secret token:  ${secret}`,
      '  Trigger:       Push events (all branches), Tag push events and Merge request events',
      sslVerificationLine(hookUrl),
      `(or let pushci do it: GITLAB_TOKEN=… npx pushci hooks create ${repository} --forge gitlab)`,
    ],
  },
  webhookDoc: {
    summary: 'GitLab push and tag push webhook',
    headers: [
      { name: 'X-Gitlab-Event', description: '`Push Hook` or `Tag Push Hook`; others are ignored (202).' },
      { name: 'X-Gitlab-Token', description: 'Equal to GITLAB_WEBHOOK_TOKEN.' },
      {
        name: 'X-Gitlab-Event-UUID',
        description: 'Delivery id (`Idempotency-Key` wins when both are sent).',
        required: false,
      },
      {
        name: 'webhook-signature',
        description:
          'With GITLAB_WEBHOOK_SIGNING_TOKEN: the Standard Webhooks signature (with `webhook-id` and `webhook-timestamp`).',
        required: false,
      },
    ],
  },
};
