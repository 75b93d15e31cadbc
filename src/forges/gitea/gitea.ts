import type { Config } from '../../config.ts';
import type { Forge } from '../forge.ts';
import { cloneUrlUnder } from '../forge.ts';
import { giteaCommitStatus } from './commit-status.ts';
import { createGiteaInbound } from './inbound.ts';
import { FORGEJO_SETTINGS, GITEA_SETTINGS } from './settings.ts';

/** Gitea and its variant Forgejo differ only in names, headers, secret and base URL. */
function giteaLike(
  name: 'gitea' | 'forgejo',
  title: string,
  secretEnv: string,
  secrets: (config: Readonly<Config>) => readonly string[],
  baseUrl: (config: Readonly<Config>) => string,
  token: (config: Readonly<Config>) => string | undefined,
  tokenEnv: string,
): Omit<Forge, 'settings'> {
  const header = name === 'gitea' ? 'X-Gitea' : 'X-Forgejo';
  return {
    name,
    title,
    webhookSecrets: (config) => [{ env: secretEnv, values: secrets(config) }],
    inbound: (config) => createGiteaInbound(name, secrets(config)),
    cloneUrl: (config, repository) => cloneUrlUnder(baseUrl(config), repository),
    commitStatus: (s, config) => giteaCommitStatus(s, baseUrl(config), token(config), tokenEnv),
    hooks: null,
    pullRequestRef: (number) => `refs/pull/${number}/head`,
    setup: {
      secretEnv,
      instructions: ({ repository, hookUrl, secret }) => [
        `In ${title}: ${repository} → Settings → Webhooks → Add webhook → ${title}`,
        `  Target URL:    ${hookUrl}`,
        '  HTTP method:   POST',
        '  POST content type: application/json',
        `  Secret:        ${secret}`,
        '  Trigger on:    Custom events: Push and Pull Request (opened, synchronized, reopened)',
        '  Active:        ticked',
      ],
    },
    webhookDoc: {
      summary: `${title} push webhook`,
      headers: [
        { name: `${header}-Event`, description: '`push` starts builds; others are ignored (202).' },
        { name: `${header}-Delivery`, description: 'Delivery id.' },
        {
          name: `${header}-Signature`,
          description: `Hex HMAC-SHA256 of the raw body with ${secretEnv}.${name === 'forgejo' ? ' `X-Gitea-*` headers are accepted too.' : ''}`,
        },
      ],
    },
  };
}

export const gitea: Forge<typeof GITEA_SETTINGS> = {
  ...giteaLike(
    'gitea',
    'Gitea',
    'GITEA_WEBHOOK_SECRET',
    (c) => c.giteaSecrets,
    (c) => c.giteaUrl,
    (c) => c.giteaToken,
    'GITEA_TOKEN',
  ),
  settings: GITEA_SETTINGS,
};

export const forgejo: Forge<typeof FORGEJO_SETTINGS> = {
  ...giteaLike(
    'forgejo',
    'Forgejo',
    'FORGEJO_WEBHOOK_SECRET',
    (c) => c.forgejoSecrets,
    (c) => c.forgejoUrl,
    (c) => c.forgejoToken,
    'FORGEJO_TOKEN',
  ),
  settings: FORGEJO_SETTINGS,
};
