import type { Config } from '../config.ts';
import type { DeliveryLog } from '../notify/delivery-log.ts';
import { endpointId } from '../notify/emit.ts';
import type { EndpointView } from '../notify/endpoint-schema.ts';
import type { EndpointStore, StoredEndpoint } from '../notify/endpoint-store.ts';
import type { Glob } from '../pipelines/glob.ts';
import type { PipelineSet } from '../pipelines/pipeline-set.ts';

export interface EndpointViewDeps {
  endpoints: EndpointStore;
  deliveryLog: DeliveryLog;
  pipelines: () => PipelineSet;
  config: Pick<Config, 'notifyUrls'>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const globText = (g: Glob) => `${g.negated ? '!' : ''}${g.pattern}`;

/** A registered endpoint as the API shows it: never its secret. */
export async function subscriptionView(deps: EndpointViewDeps, e: StoredEndpoint): Promise<EndpointView> {
  const now = deps.endpoints.now();
  return {
    id: e.id,
    source: 'api',
    pipeline: null,
    url: e.url,
    description: e.description,
    events: e.events,
    pipelines: e.pipelines,
    branches: e.branches,
    on_pause: e.onPause,
    state: e.state,
    state_reason: e.stateReason,
    state_changed_at: iso(e.stateAt),
    previous_secret_valid_until:
      e.previousUntil !== null && e.previousUntil > now ? iso(e.previousUntil) : null,
    created_at: iso(e.createdAt),
    updated_at: iso(e.updatedAt),
    stats: await deps.deliveryLog.stats(e.id, e.failingSince),
  };
}

/**
 * The endpoints pushci's configuration declares (pipeline files' `notify` entries and
 * `PUSHCI_NOTIFY_URLS`), in the same shape as registered ones, so the delivery log and the dashboard
 * show all three kinds alike. They are changed where they are declared, not through the API.
 */
export async function configuredViews(deps: EndpointViewDeps): Promise<EndpointView[]> {
  const disabled = await deps.deliveryLog.disabledReasons();
  const base = (id: string) => ({
    state: disabled[id] ? ('disabled' as const) : ('active' as const),
    state_reason: disabled[id] ?? null,
    state_changed_at: null,
    on_pause: 'keep' as const,
    previous_secret_valid_until: null,
    created_at: null,
    updated_at: null,
  });
  const out: Array<Omit<EndpointView, 'stats'>> = [];
  for (const p of deps.pipelines().pipelines) {
    p.notify.forEach((n, i) => {
      const id = endpointId(p.name, n.url);
      out.push({
        ...base(id),
        id,
        source: 'pipeline',
        pipeline: p.name,
        url: n.url,
        description: `notify[${i}] of ${p.file}`,
        events: n.events,
        pipelines: [p.name],
        branches: (n.branches ?? []).map(globText),
      });
    });
  }
  for (const url of deps.config.notifyUrls) {
    const id = endpointId('*', url);
    out.push({
      ...base(id),
      id,
      source: 'global',
      pipeline: null,
      url,
      description: 'PUSHCI_NOTIFY_URLS',
      events: ['build.queued', 'build.started', 'build.completed', 'endpoint.disabled'],
      pipelines: [],
      branches: [],
    });
  }
  return Promise.all(out.map(async (v) => ({ ...v, stats: await deps.deliveryLog.stats(v.id, null) })));
}
