import type { Forge } from '../forge.ts';
import { cloneUrlUnder } from '../forge.ts';
import { bitbucketCommitStatus } from './commit-status.ts';
import { bitbucketHooks } from './hooks.ts';
import { createBitbucketInbound } from './inbound.ts';
import { BITBUCKET_SETTINGS } from './settings.ts';

/** Bitbucket Cloud. */
export const bitbucket: Forge<typeof BITBUCKET_SETTINGS> = {
  name: 'bitbucket',
  title: 'Bitbucket',
  settings: BITBUCKET_SETTINGS,
  webhookSecrets: (config) => [{ env: 'BITBUCKET_WEBHOOK_SECRET', values: config.bitbucketSecrets }],
  inbound: (config) => createBitbucketInbound(config.bitbucketSecrets),
  cloneUrl: (config, repository) => cloneUrlUnder(config.bitbucketUrl, repository),
  commitStatus: (status, config) =>
    bitbucketCommitStatus(status, config.bitbucketApiUrl, config.bitbucketToken),
  hooks: bitbucketHooks,
  // Bitbucket Cloud serves no pull request refs: the head is fetched through the source branch.
  pullRequestRef: () => null,
  setup: {
    secretEnv: 'BITBUCKET_WEBHOOK_SECRET',
    instructions: ({ repository, hookUrl, secret }) => [
      `In Bitbucket: ${repository} → Repository settings → Webhooks → Add webhook`,
      '  Title:         pushci',
      `  URL:           ${hookUrl}`,
      `  Secret:        ${secret}`,
      '  Status:        Active',
      '  Triggers:      Repository push; Pull request Created and Updated',
    ],
  },
  webhookDoc: {
    summary:
      'Bitbucket Cloud push and pull request webhook (each ref of `push.changes[]` builds on its own; a pull request builds its source commit)',
    headers: [
      {
        name: 'X-Event-Key',
        description:
          '`repo:push`, `pullrequest:created` and `pullrequest:updated` start builds; `diagnostics:ping` answers 200; others (`pullrequest:fulfilled`, `pullrequest:rejected`, ...) are ignored (202).',
      },
      { name: 'X-Request-UUID', description: 'Delivery id (`X-Hook-UUID` when it is missing).' },
      {
        name: 'X-Hub-Signature',
        description: '`sha256=` HMAC of the raw body with BITBUCKET_WEBHOOK_SECRET.',
      },
    ],
  },
};
