import type { Config } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import { apiRequest, type ApiTarget } from '../api-request.ts';
import type { HookManager, HookReport } from '../forge.ts';

/** The events pushci builds from; `pushci hooks create` subscribes to these. */
export const BITBUCKET_HOOK_EVENTS = ['repo:push', 'pullrequest:created', 'pullrequest:updated'] as const;

interface BitbucketHook {
  uuid: string;
  url: string;
  active: boolean;
  events: string[];
  secret_set?: boolean;
}

function target(config: Readonly<Config>): ApiTarget {
  if (!config.bitbucketToken)
    throw new ConfigError(
      'set BITBUCKET_TOKEN (an access token with the webhook scope) to manage Bitbucket webhooks',
    );
  return {
    base: config.bitbucketApiUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${config.bitbucketToken}` },
    forge: 'Bitbucket',
    tokenVar: 'BITBUCKET_TOKEN',
  };
}

const hooksPath = (repo: string) =>
  `/2.0/repositories/${repo.split('/').map(encodeURIComponent).join('/')}/hooks`;

/** Every webhook of the repository, following Bitbucket's `next` pages (at most 10). */
async function listHooks(t: ApiTarget, repo: string): Promise<BitbucketHook[]> {
  const out: BitbucketHook[] = [];
  let path: string | null = `${hooksPath(repo)}?pagelen=100`;
  for (let page = 0; path && page < 10; page++) {
    const { json } = await apiRequest(t, 'GET', path);
    const body = json as { values?: BitbucketHook[]; next?: string };
    out.push(...(body.values ?? []));
    path = body.next ?? null;
  }
  return out;
}

/** pushci's webhook on a Bitbucket Cloud repository, through the 2.0 REST API. */
export const bitbucketHooks: HookManager = {
  async create(config, repo) {
    const url = `${config.publicUrl}/webhooks/bitbucket`;
    const t = target(config);
    const secret = config.bitbucketSecrets[0];
    if (!secret) throw new ConfigError('set BITBUCKET_WEBHOOK_SECRET first (pushci init writes one to .env)');
    const existing = (await listHooks(t, repo)).find((h) => h.url === url);
    if (existing)
      return { ok: true, lines: [`${repo} already has webhook ${existing.uuid} pointing at ${url}`] };
    const { json } = await apiRequest(t, 'POST', hooksPath(repo), {
      description: 'pushci',
      url,
      active: true,
      secret,
      events: [...BITBUCKET_HOOK_EVENTS],
    });
    return {
      ok: true,
      lines: [
        `created Bitbucket webhook ${(json as BitbucketHook).uuid} on ${repo}: ${url}, ${BITBUCKET_HOOK_EVENTS.join(', ')}, secret BITBUCKET_WEBHOOK_SECRET`,
      ],
    };
  },

  /** Bitbucket's API shows no delivery history: the URL, the events and whether the hook is active. */
  async check(config, repo): Promise<HookReport> {
    const url = `${config.publicUrl}/webhooks/bitbucket`;
    const lines: string[] = [];
    let ok = true;
    const problem = (text: string) => {
      ok = false;
      lines.push(`✘ ${text}`);
    };
    const host = new URL(config.publicUrl).host;
    const hooks = await listHooks(target(config), repo);
    const hook = hooks.find((h) => h.url === url);
    if (!hook) {
      const near = hooks.filter((h) => h.url.includes(host));
      if (near.length > 0)
        for (const h of near) problem(`webhook ${h.uuid} points at ${h.url}; it should be ${url}`);
      else
        problem(
          `no webhook of ${repo} points at ${url} (${hooks.length} webhooks); run "pushci hooks create ${repo} --forge bitbucket"`,
        );
      return { ok, lines };
    }
    lines.push(`✔ webhook ${hook.uuid} points at ${url}`);
    if (!hook.active) problem('the webhook is not active: tick "Active" in its settings');
    if (!hook.events.includes('repo:push')) problem('"Repository push" is not a trigger: tick it');
    const missing = BITBUCKET_HOOK_EVENTS.filter((e) => e !== 'repo:push' && !hook.events.includes(e));
    if (missing.length > 0)
      lines.push(
        `! ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not a trigger: tick "Pull request: Created" and "Updated", or pull_request pipelines never run`,
      );
    if (hook.secret_set === false)
      problem(
        'the webhook has no secret: every delivery is refused with 401; set BITBUCKET_WEBHOOK_SECRET as its secret',
      );
    lines.push(
      '! Bitbucket\'s API shows no delivery history: see the webhook\'s "View requests" page for failures',
    );
    return { ok, lines };
  },
};
