import type { Pipeline } from '../../pipelines/pipeline.ts';
import type { GithubClient, GithubDelivery } from './api-client.ts';

/** The repositories recovery covers by default: those of GitHub pipelines, except glob patterns. */
export function githubRepositories(pipelines: readonly Pipeline[]): string[] {
  return [
    ...new Set(
      pipelines
        .filter((p) => (p.forge ?? 'github') === 'github' && !/[*?[{]/.test(p.repository))
        .map((p) => p.repository),
    ),
  ];
}

export interface RecoverReport {
  repository: string;
  hookId: number | null;
  /** Delivery guids that never got a 2xx and were asked to be delivered again. */
  redelivered: Array<{ guid: string; event: string; last_status: number; delivered_at: string }>;
  problem: string | null;
}

/**
 * Finds the deliveries of pushci's hook that failed since `since` (no attempt of the same guid got a
 * 2xx) and asks GitHub to deliver each again, once. GitHub never retries a failed delivery by itself.
 */
export async function recoverDeliveries(
  client: GithubClient,
  repository: string,
  hookUrl: string,
  since: Date,
  hookId?: number,
): Promise<RecoverReport> {
  const report: RecoverReport = { repository, hookId: hookId ?? null, redelivered: [], problem: null };
  if (hookId === undefined) {
    const hooks = await client.listHooks(repository);
    const hook = hooks.find((h) => h.config.url === hookUrl);
    if (!hook) {
      report.problem = `no hook of ${repository} points at ${hookUrl} (${hooks.length} hooks: ${hooks.map((h) => h.config.url).join(', ') || 'none'})`;
      return report;
    }
    report.hookId = hook.id;
  }
  const deliveries = await client.listDeliveries(repository, report.hookId!, since);
  const byGuid = new Map<string, GithubDelivery[]>();
  for (const d of deliveries) byGuid.set(d.guid, [...(byGuid.get(d.guid) ?? []), d]);
  for (const [guid, attempts] of byGuid) {
    if (attempts.some((a) => a.status_code >= 200 && a.status_code < 300)) continue;
    const latest = attempts.reduce((a, b) =>
      Date.parse(b.delivered_at) > Date.parse(a.delivered_at) ? b : a,
    );
    await client.redeliver(repository, report.hookId!, latest.id);
    report.redelivered.push({
      guid,
      event: latest.event,
      last_status: latest.status_code,
      delivered_at: latest.delivered_at,
    });
  }
  return report;
}
