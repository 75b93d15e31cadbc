import type { Forge } from '../forge.ts';
import { cloneUrlUnder } from '../forge.ts';
import { githubCommitStatus } from './commit-status.ts';
import { githubHooks } from './hooks.ts';
import { createGithubInbound } from './inbound.ts';
import { sslVerificationLine } from '../ssl-verification-line.ts';
import { GITHUB_SETTINGS } from './settings.ts';

/** GitHub and GitHub Enterprise. */
export const github: Forge<typeof GITHUB_SETTINGS> = {
  name: 'github',
  title: 'GitHub',
  settings: GITHUB_SETTINGS,
  webhookSecrets: (config) => [{ env: 'GITHUB_WEBHOOK_SECRET', values: config.githubSecrets }],
  inbound: (config) => createGithubInbound(config.githubSecrets),
  cloneUrl: (config, repository) => cloneUrlUnder(config.githubUrl, repository),
  commitStatus: githubCommitStatus,
  hooks: githubHooks,
  pullRequestRef: (number) => `refs/pull/${number}/head`,
  setup: {
    secretEnv: 'GITHUB_WEBHOOK_SECRET',
    instructions: ({ repository, hookUrl, secret }) => [
      `In GitHub: ${repository} → Settings → Webhooks → Add webhook`,
      `  Payload URL:   ${hookUrl}`,
      '  Content type:  application/json',
      `  Secret:        ${secret}`,
      sslVerificationLine(hookUrl),
      '  Which events:  Let me select: Pushes and Pull requests',
      '  Active:        ticked',
      `(or let pushci do it: GITHUB_TOKEN=… npx pushci hooks create ${repository})`,
    ],
  },
  webhookDoc: {
    summary: 'GitHub push webhook',
    headers: [
      {
        name: 'X-GitHub-Event',
        description: '`push` starts builds; `ping` answers 200; others are ignored (202).',
      },
      { name: 'X-GitHub-Delivery', description: 'Delivery id.' },
      {
        name: 'X-Hub-Signature-256',
        description: '`sha256=` HMAC of the raw body with GITHUB_WEBHOOK_SECRET.',
      },
    ],
    formBody: true,
  },
};
