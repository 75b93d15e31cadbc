import type { Setting } from '../../config.ts';

/** Bitbucket's rows of the settings table. */
export const BITBUCKET_SETTINGS: readonly Setting[] = [
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
];
