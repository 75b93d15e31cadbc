import type { Config } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import type { HookManager, HookReport } from '../forge.ts';
import { GithubClient } from './api-client.ts';

function client(config: Readonly<Config>): GithubClient {
  if (!config.githubToken)
    throw new ConfigError('set GITHUB_TOKEN (a token with admin:repo_hook) to manage GitHub hooks');
  return new GithubClient(config.githubApiUrl, config.githubToken);
}

/** Why a GitHub delivery failed, from the status pushci answered. */
function failureHint(statusCode: number): string {
  if (statusCode === 401) return ' (secret mismatch: GITHUB_WEBHOOK_SECRET differs from the hook secret)';
  if (statusCode === 0) return ' (pushci unreachable: check PUSHCI_PUBLIC_URL and the network)';
  if (statusCode === 503) return ' (Redis was unavailable)';
  return '';
}

/** pushci's webhook on a GitHub repository, through the REST API. */
export const githubHooks: HookManager = {
  async create(config, repo) {
    const url = `${config.publicUrl}/webhooks/github`;
    const github = client(config);
    const secret = config.githubSecrets[0];
    if (!secret) throw new ConfigError('set GITHUB_WEBHOOK_SECRET first (pushci init writes one to .env)');
    const existing = (await github.listHooks(repo)).find((h) => h.config.url === url);
    if (existing)
      return {
        ok: true,
        lines: [
          `${repo} already has hook ${existing.id} pointing at ${url}; run "pushci hooks check ${repo}" to see its deliveries`,
        ],
      };
    const hook = await github.createHook(repo, { url, secret, events: ['push', 'pull_request'] });
    return {
      ok: true,
      lines: [
        `created GitHub hook ${hook.id} on ${repo}: ${url}, content type json, events: push and pull_request, signed with GITHUB_WEBHOOK_SECRET`,
      ],
    };
  },

  /** Also lists the deliveries of the last 24 h that failed, with their likely cause. */
  async check(config, repo, now = Date.now()): Promise<HookReport> {
    const url = `${config.publicUrl}/webhooks/github`;
    const lines: string[] = [];
    let ok = true;
    const problem = (text: string) => {
      ok = false;
      lines.push(`✘ ${text}`);
    };
    const github = client(config);
    const host = new URL(config.publicUrl).host;
    const hooks = await github.listHooks(repo);
    const hook = hooks.find((h) => h.config.url === url);
    if (!hook) {
      const near = hooks.filter((h) => h.config.url?.includes(host));
      if (near.length > 0)
        for (const h of near) problem(`hook ${h.id} points at ${h.config.url}; it should be ${url}`);
      else
        problem(
          `no hook of ${repo} points at ${url} (${hooks.length} hooks); run "pushci hooks create ${repo}"`,
        );
      return { ok, lines };
    }
    lines.push(`✔ hook ${hook.id} points at ${url}`);
    if (!hook.active) problem(`hook ${hook.id} is inactive: enable it in the repository's webhook settings`);
    if (hook.config.content_type !== 'json')
      lines.push(
        `! content type is ${hook.config.content_type}; application/json is recommended (form works too)`,
      );
    else lines.push('✔ content type json');
    if (!hook.events.includes('push') && !hook.events.includes('*'))
      problem(
        `hook ${hook.id} does not send push events (${hook.events.join(', ')}): tick "Pushes" and "Pull requests"`,
      );
    else lines.push('✔ sends push events');
    if (!hook.events.includes('pull_request') && !hook.events.includes('*'))
      lines.push('! pull request events are off: tick "Pull requests", or pull_request pipelines never run');
    else lines.push('✔ sends pull request events');
    const deliveries = await github.listDeliveries(repo, hook.id, new Date(now - 24 * 3600_000));
    const failed = deliveries.filter((d) => d.status_code < 200 || d.status_code >= 300);
    if (failed.length > 0) {
      problem(`${failed.length} of ${deliveries.length} deliveries in the last 24 h failed:`);
      for (const d of failed.slice(0, 5))
        lines.push(`    ${d.delivered_at} ${d.event} ${d.guid}: ${d.status}${failureHint(d.status_code)}`);
      lines.push(`    run "pushci recover --repo ${repo}" to have GitHub deliver them again`);
    } else lines.push(`✔ ${deliveries.length} deliveries in the last 24 h, none failed`);
    return { ok, lines };
  },
};
