import type { Setting } from '../../settings.ts';

/** Bitbucket's rows of the settings table. */
export const BITBUCKET_SETTINGS = [
  {
    key: 'bitbucketSecrets',
    env: 'BITBUCKET_WEBHOOK_SECRET',
    flag: 'bitbucket-webhook-secret',
    kind: 'list',
    default: undefined,
    doc: 'Bitbucket Cloud webhook secret(s) for `/webhooks/bitbucket`.',
  },
  {
    key: 'bitbucketUrl',
    env: 'PUSHCI_BITBUCKET_URL',
    flag: 'bitbucket-url',
    kind: 'string',
    default: 'https://bitbucket.org',
    doc: 'Bitbucket web base URL, for default clone URLs.',
  },
  {
    key: 'bitbucketApiUrl',
    env: 'PUSHCI_BITBUCKET_API_URL',
    flag: 'bitbucket-api-url',
    kind: 'string',
    default: 'https://api.bitbucket.org',
    doc: 'Bitbucket API base URL, for build statuses.',
  },
  {
    key: 'bitbucketToken',
    env: 'BITBUCKET_TOKEN',
    flag: 'bitbucket-token',
    kind: 'string',
    default: undefined,
    doc: 'Access token for Bitbucket build statuses (`commit-status: true`) and `pushci hooks` (scopes: repository, webhook).',
  },
] as const satisfies readonly Setting[];
