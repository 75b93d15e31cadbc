import type { Setting } from '../../settings.ts';

/** GitLab's rows of the settings table. */
export const GITLAB_SETTINGS = [
  {
    key: 'gitlabTokens',
    env: 'GITLAB_WEBHOOK_TOKEN',
    flag: 'gitlab-webhook-token',
    kind: 'list',
    default: undefined,
    doc: 'GitLab secret token(s), comma-separated for rotation. `/webhooks/gitlab` answers 401 to all when unset.',
  },
  {
    key: 'gitlabSigningTokens',
    env: 'GITLAB_WEBHOOK_SIGNING_TOKEN',
    flag: 'gitlab-webhook-signing-token',
    kind: 'list',
    default: undefined,
    doc: 'GitLab signing token(s) (`whsec_...`): when set, GitLab deliveries must carry a valid Standard Webhooks signature (5 min tolerance).',
  },
  {
    key: 'gitlabToken',
    env: 'GITLAB_TOKEN',
    flag: 'gitlab-token',
    kind: 'string',
    default: undefined,
    doc: 'Token for GitLab commit statuses and `pushci hooks`.',
  },
  {
    key: 'gitlabApiUrl',
    env: 'PUSHCI_GITLAB_API_URL',
    flag: 'gitlab-api-url',
    kind: 'string',
    default: 'https://gitlab.com/api/v4',
    doc: 'GitLab REST API base (self-managed: `https://<host>/api/v4`).',
  },
  {
    key: 'gitlabUrl',
    env: 'PUSHCI_GITLAB_URL',
    flag: 'gitlab-url',
    kind: 'string',
    default: 'https://gitlab.com',
    doc: 'GitLab web base URL, for default clone URLs (self-managed GitLab: your server).',
  },
] as const satisfies readonly Setting[];
