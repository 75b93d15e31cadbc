import type { Setting } from '../../settings.ts';

/** Gitea's rows of the settings table. */
export const GITEA_SETTINGS = [
  {
    key: 'giteaSecrets',
    env: 'GITEA_WEBHOOK_SECRET',
    flag: 'gitea-webhook-secret',
    kind: 'list',
    default: undefined,
    doc: 'Gitea webhook secret(s) for `/webhooks/gitea`.',
  },
  {
    key: 'giteaUrl',
    env: 'PUSHCI_GITEA_URL',
    flag: 'gitea-url',
    kind: 'string',
    default: 'https://gitea.com',
    doc: 'Gitea web base URL, for default clone URLs and its API (`<url>/api/v1`).',
  },
  {
    key: 'giteaToken',
    env: 'GITEA_TOKEN',
    flag: 'gitea-token',
    kind: 'string',
    default: undefined,
    doc: 'Token for Gitea commit statuses (`commit-status: true`), with write access to the repository.',
  },
] as const satisfies readonly Setting[];

/** Forgejo's rows (Forgejo is Gitea's variant with its own secret and base URL). */
export const FORGEJO_SETTINGS = [
  {
    key: 'forgejoSecrets',
    env: 'FORGEJO_WEBHOOK_SECRET',
    flag: 'forgejo-webhook-secret',
    kind: 'list',
    default: undefined,
    doc: 'Forgejo webhook secret(s) for `/webhooks/forgejo`.',
  },
  {
    key: 'forgejoUrl',
    env: 'PUSHCI_FORGEJO_URL',
    flag: 'forgejo-url',
    kind: 'string',
    default: 'https://codeberg.org',
    doc: 'Forgejo web base URL, for default clone URLs and its API (`<url>/api/v1`).',
  },
  {
    key: 'forgejoToken',
    env: 'FORGEJO_TOKEN',
    flag: 'forgejo-token',
    kind: 'string',
    default: undefined,
    doc: 'Token for Forgejo commit statuses (`commit-status: true`), with write access to the repository.',
  },
] as const satisfies readonly Setting[];
