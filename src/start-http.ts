import type { Redis } from 'ioredis';
import { ensureApiToken } from './api-token.ts';
import { startSchedules } from './builds/schedules.ts';
import type { Config } from './config.ts';
import type { Inbound } from './forges/forge.ts';
import { FORGE_LIST } from './forges/registry.ts';
import { createApp } from './http/app.ts';
import { compactHeap } from './compact-heap.ts';
import { listen } from './listen.ts';
import { subscribeLiveEvents } from './subscribe-live-events.ts';
import type { Logger } from './log.ts';
import { startMaintenance } from './maintenance/maintenance.ts';
import type { PipelineSet } from './pipelines/pipeline-set.ts';
import { servePipelines } from './serve-pipelines.ts';
import { createStack } from './stack.ts';

export interface HttpDeps {
  log: Logger;
  clock: { now?: () => number };
  redisUrl: string;
  connect(role: 'producer' | 'worker'): Promise<Redis>;
  /** What stops it, in the order it starts (the caller stops in reverse). */
  closers: Array<() => Promise<unknown>>;
}

/**
 * The HTTP side of `serve`: the pipelines (followed as files change), the receiver, API and dashboard,
 * housekeeping and schedules. Returns the URL it listens on and the pipelines in force.
 */
export async function startHttp(
  config: Readonly<Config>,
  deps: HttpDeps,
): Promise<{ url: string; pipelines(): PipelineSet }> {
  const { log, closers } = deps;
  const redis = await deps.connect('producer');
  const stack = createStack(redis, config, log, deps.clock);
  closers.push(() => stack.close());
  // A key problem must not stop the intake: builds and the other endpoints work without it.
  await stack.endpoints
    .ready()
    .catch((err: Error) =>
      log.error({ err: err.message }, 'endpoint secrets cannot be read or written by this process'),
    );
  const pipelines = await servePipelines(config, redis, stack.keys.lastGoodPipelines, log);
  closers.push(() => pipelines.close());
  warnWithoutSecrets(config, log);
  const live = await subscribeLiveEvents(
    deps.redisUrl,
    { events: stack.keys.eventsChannel, logAppends: stack.keys.logAppendsChannel },
    log,
  );
  closers.push(() => live.close());
  // No anonymous API, ever: without PUSHCI_API_TOKEN, the token lives in the data dir.
  const generated = config.apiToken ? null : await ensureApiToken(config.dataDir);
  const apiToken = config.apiToken ?? generated!.token;
  const app = createApp({
    ...stack,
    liveEvents: live.events,
    logAppends: live.logAppends,
    forges: new Map<string, Inbound>(FORGE_LIST.map((f) => [f.name, f.inbound(config)])),
    dedupeWindowMs: config.dedupeWindowMs,
    replayWindowMs: config.replayWindowMs,
    pipelines: () => pipelines.current(),
    maxBodyBytes: config.maxBodyBytes,
    publicUrl: config.publicUrl,
    forkPullRequests: config.forkPullRequests,
    apiToken,
    config,
    log,
  });
  await startHousekeeping(config, deps, () => pipelines.current(), pipelines.onReload);
  // Before listening, so no request waits for it: start-up's garbage is most of an idle receiver's RSS.
  const compacted = config.compactHeap ? compactHeap() : null;
  const server = await listen(app, config);
  closers.push(() => server.close());
  log.info(
    {
      url: server.url,
      public_url: config.publicUrl,
      ...(compacted && {
        heap_compacted_ms: Math.round(compacted.ms),
        heap_freed_mib: Math.round(compacted.freedBytes / 2 ** 20),
      }),
    },
    'pushci is listening',
  );
  if (generated) {
    // The one line that carries the token (as Jupyter's does): whoever reads this log could log in.
    const base =
      config.publicUrl === `http://localhost:${config.port}`
        ? `http://localhost:${server.port}`
        : config.publicUrl;
    const link = `${base}/login?token=${encodeURIComponent(apiToken)}`;
    log.info(
      { token_file: generated.file, token_created: generated.created, login_url: link },
      `open the dashboard: ${link}`,
    );
  }
  return { url: server.url, pipelines: () => pipelines.current() };
}

function warnWithoutSecrets(config: Readonly<Config>, log: Logger): void {
  const secrets = FORGE_LIST.flatMap((f) => f.webhookSecrets(config));
  if (secrets.every((s) => s.values.length === 0))
    log.warn(
      `no webhook secret is set (${secrets.map((s) => s.env).join(', ')}): every webhook will be refused with 401`,
    );
}

/**
 * Housekeeping and schedules run where the pipelines are loaded, on their own connection; their BullMQ
 * schedulers run each job once per period (or tick) across processes. Schedules follow the files.
 */
async function startHousekeeping(
  config: Readonly<Config>,
  deps: HttpDeps,
  pipelines: () => PipelineSet,
  onReload: (fn: () => void) => void,
): Promise<void> {
  const { log, closers } = deps;
  const redis = await deps.connect('worker');
  const stack = createStack(redis, config, log);
  closers.push(() => stack.close());
  const maintenance = await startMaintenance(config, redis, stack, () => pipelines().pipelines, log);
  closers.push(() => maintenance.close());
  const scheduler = await startSchedules(
    { ...stack, config, redis, pipelines: () => pipelines().pipelines, log },
    redis,
  );
  closers.push(() => scheduler.close());
  onReload(() => void scheduler.sync());
  await scheduler.sync();
}
