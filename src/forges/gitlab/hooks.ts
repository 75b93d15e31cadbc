import type { Config } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import type { HookManager, HookReport } from '../forge.ts';
import { GitlabClient } from './api-client.ts';

function client(config: Readonly<Config>): GitlabClient {
  if (!config.gitlabToken)
    throw new ConfigError('set GITLAB_TOKEN (a token with the api scope) to manage GitLab hooks');
  return new GitlabClient(config.gitlabApiUrl, config.gitlabToken);
}

/** pushci's webhook on a GitLab project, through the REST API. */
export const gitlabHooks: HookManager = {
  async create(config, repo) {
    const url = `${config.publicUrl}/webhooks/gitlab`;
    const gitlab = client(config);
    const token = config.gitlabTokens[0];
    if (!token) throw new ConfigError('set GITLAB_WEBHOOK_TOKEN first (pushci init writes one to .env)');
    const existing = (await gitlab.listHooks(repo)).find((h) => h.url === url);
    if (existing) return { ok: true, lines: [`${repo} already has hook ${existing.id} pointing at ${url}`] };
    const hook = await gitlab.createHook(repo, { url, token });
    return {
      ok: true,
      lines: [
        `created GitLab hook ${hook.id} on ${repo}: ${url}, push, tag push and merge request events, secret token GITLAB_WEBHOOK_TOKEN`,
      ],
    };
  },

  /** GitLab keeps no delivery list pushci can read; its own alert status says whether the hook works. */
  async check(config, repo): Promise<HookReport> {
    const url = `${config.publicUrl}/webhooks/gitlab`;
    const lines: string[] = [];
    let ok = true;
    const problem = (text: string) => {
      ok = false;
      lines.push(`✘ ${text}`);
    };
    const gitlab = client(config);
    const host = new URL(config.publicUrl).host;
    const hooks = await gitlab.listHooks(repo);
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
    if (!hook.merge_requests_events)
      lines.push(
        '! merge request events are off: tick "Merge request events", or pull_request pipelines never run',
      );
    if (hook.alert_status && hook.alert_status !== 'executable')
      problem(
        `GitLab disabled the hook after failures (${hook.alert_status}${hook.disabled_until ? ` until ${hook.disabled_until}` : ''}): check the recent events in the hook's settings`,
      );
    else lines.push('✔ GitLab reports the hook as working');
    return { ok, lines };
  },
};
