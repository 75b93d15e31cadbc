import type { Config } from '../config.ts';
import { GithubClient } from './github-client.ts';
import { GitlabClient } from './gitlab-client.ts';

export type HookForge = 'github' | 'gitlab';

export interface HookReport {
  ok: boolean;
  lines: string[];
}

function clients(config: Readonly<Config>, forge: HookForge) {
  if (forge === 'github') {
    if (!config.githubToken)
      throw new Error('set GITHUB_TOKEN (a token with admin:repo_hook) to manage GitHub hooks');
    return { github: new GithubClient(config.githubApiUrl, config.githubToken) };
  }
  if (!config.gitlabToken)
    throw new Error('set GITLAB_TOKEN (a token with the api scope) to manage GitLab hooks');
  return { gitlab: new GitlabClient(config.gitlabApiUrl, config.gitlabToken) };
}

/** Registers pushci's webhook on the repository (once: an existing hook with the same URL is kept). */
export async function createHook(
  config: Readonly<Config>,
  forge: HookForge,
  repo: string,
): Promise<HookReport> {
  const url = `${config.publicUrl}/webhooks/${forge}`;
  const c = clients(config, forge);
  if (c.github) {
    const secret = config.githubSecrets[0];
    if (!secret) throw new Error('set GITHUB_WEBHOOK_SECRET first (pushci init writes one to .env)');
    const existing = (await c.github.listHooks(repo)).find((h) => h.config.url === url);
    if (existing)
      return {
        ok: true,
        lines: [
          `${repo} already has hook ${existing.id} pointing at ${url}; run "pushci hooks check ${repo}" to see its deliveries`,
        ],
      };
    const hook = await c.github.createHook(repo, { url, secret, events: ['push'] });
    return {
      ok: true,
      lines: [
        `created GitHub hook ${hook.id} on ${repo}: ${url}, content type json, events: push, signed with GITHUB_WEBHOOK_SECRET`,
      ],
    };
  }
  const token = config.gitlabTokens[0];
  if (!token) throw new Error('set GITLAB_WEBHOOK_TOKEN first (pushci init writes one to .env)');
  const existing = (await c.gitlab!.listHooks(repo)).find((h) => h.url === url);
  if (existing) return { ok: true, lines: [`${repo} already has hook ${existing.id} pointing at ${url}`] };
  const hook = await c.gitlab!.createHook(repo, { url, token });
  return {
    ok: true,
    lines: [
      `created GitLab hook ${hook.id} on ${repo}: ${url}, push and tag push events, secret token GITLAB_WEBHOOK_TOKEN`,
    ],
  };
}

/**
 * Looks at pushci's hook on the repository and says what is wrong: no hook or one at a wrong URL,
 * the wrong content type or events, and failing deliveries (GitHub lists them; GitLab shows its
 * own alert status).
 */
export async function checkHook(
  config: Readonly<Config>,
  forge: HookForge,
  repo: string,
  now = Date.now(),
): Promise<HookReport> {
  const url = `${config.publicUrl}/webhooks/${forge}`;
  const lines: string[] = [];
  let ok = true;
  const problem = (text: string) => {
    ok = false;
    lines.push(`✘ ${text}`);
  };
  const c = clients(config, forge);
  const host = new URL(config.publicUrl).host;
  if (c.github) {
    const hooks = await c.github.listHooks(repo);
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
        `hook ${hook.id} does not send push events (${hook.events.join(', ')}): choose "Just the push event"`,
      );
    else lines.push('✔ sends push events');
    const deliveries = await c.github.listDeliveries(repo, hook.id, new Date(now - 24 * 3600_000));
    const failed = deliveries.filter((d) => d.status_code < 200 || d.status_code >= 300);
    if (failed.length > 0) {
      problem(`${failed.length} of ${deliveries.length} deliveries in the last 24 h failed:`);
      for (const d of failed.slice(0, 5)) {
        const why =
          d.status_code === 401
            ? ' (secret mismatch: GITHUB_WEBHOOK_SECRET differs from the hook secret)'
            : d.status_code === 0
              ? ' (pushci unreachable: check PUSHCI_PUBLIC_URL and the network)'
              : d.status_code === 503
                ? ' (Redis was unavailable)'
                : '';
        lines.push(`    ${d.delivered_at} ${d.event} ${d.guid}: ${d.status}${why}`);
      }
      lines.push(`    run "pushci recover --repo ${repo}" to have GitHub deliver them again`);
    } else lines.push(`✔ ${deliveries.length} deliveries in the last 24 h, none failed`);
    return { ok, lines };
  }
  const hooks = await c.gitlab!.listHooks(repo);
  const hook = hooks.find((h) => h.url === url);
  if (!hook) {
    const near = hooks.filter((h) => h.url.includes(host));
    if (near.length > 0)
      for (const h of near) problem(`hook ${h.id} points at ${h.url}; it should be ${url}`);
    else
      problem(
        `no hook of ${repo} points at ${url} (${hooks.length} hooks); run "pushci hooks create ${repo} --forge gitlab"`,
      );
    return { ok, lines };
  }
  lines.push(`✔ hook ${hook.id} points at ${url}`);
  if (!hook.push_events) problem('push events are off: tick "Push events"');
  if (!hook.tag_push_events) lines.push('! tag push events are off: tag pipelines will never run');
  if (hook.alert_status && hook.alert_status !== 'executable')
    problem(
      `GitLab disabled the hook after failures (${hook.alert_status}${hook.disabled_until ? ` until ${hook.disabled_until}` : ''}): check the recent events in the hook's settings`,
    );
  else lines.push('✔ GitLab reports the hook as working');
  return { ok, lines };
}
