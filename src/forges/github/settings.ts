import type { Setting } from '../../settings.ts';

/** GitHub's rows of the settings table. */
export const GITHUB_SETTINGS = [
  {
    key: 'githubSecrets',
    env: 'GITHUB_WEBHOOK_SECRET',
    flag: 'github-webhook-secret',
    kind: 'list',
    default: undefined,
    doc: 'GitHub webhook secret(s), comma-separated for rotation. `/webhooks/github` answers 401 to all when unset.',
  },
  {
    key: 'githubToken',
    env: 'GITHUB_TOKEN',
    flag: 'github-token',
    kind: 'string',
    default: undefined,
    doc: 'Token for GitHub commit statuses (`commit-status: true`) and `pushci hooks`.',
  },
  {
    key: 'githubApiUrl',
    env: 'PUSHCI_GITHUB_API_URL',
    flag: 'github-api-url',
    kind: 'string',
    default: 'https://api.github.com',
    doc: 'GitHub REST API base (GitHub Enterprise: `https://<host>/api/v3`).',
  },
  {
    key: 'githubUrl',
    env: 'PUSHCI_GITHUB_URL',
    flag: 'github-url',
    kind: 'string',
    default: 'https://github.com',
    doc: 'GitHub web base URL, for default clone URLs (GitHub Enterprise: your server).',
  },
] as const satisfies readonly Setting[];
