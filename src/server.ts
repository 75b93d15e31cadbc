import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { ConfigError } from './errors.ts';
import type { Inbound } from './forges/forge.ts';
import { FORGE_LIST } from './forges/registry.ts';
import { createApp } from './http/app.ts';
import { ensureApiToken } from './api-token.ts';
import { ensurePrivateDir } from './data-dir.ts';
import type { Logger } from './log.ts';
import { logErrors } from './log-errors.ts';
import { createDeliveryWorker } from './notify/delivery-worker.ts';
import { formatDiagnostic } from './pipelines/diagnostic.ts';
import { loadPipelines } from './pipelines/load.ts';
import {
  EMPTY_PIPELINE_SET,
  composePipelineSet,
  type LastGood,
  type PipelineSet,
} from './pipelines/pipeline-set.ts';
import { reportPipelineSet } from './pipelines/report-pipeline-set.ts';
import { LastGoodPipelines } from './queue/last-good-pipelines.ts';
import { watchPipelines } from './pipelines/watch.ts';
import { checkPrefixFor, createRedis, waitReady } from './queue/connection.ts';
import { joinEmbeddedRedis, startEmbeddedRedis, type EmbeddedRedis } from './redis/embedded.ts';
import { acquireServeLock } from './redis/serve-lock.ts';
import { createJobWorker } from './runner/job-worker.ts';
import { selectBackend } from './runner/select-backend.ts';
import { createStack, type Stack } from './stack.ts';
import { startSchedules } from './builds/schedules.ts';
import { startMaintenance } from './maintenance/maintenance.ts';
import { startHeartbeat } from './queue/worker-heartbeat.ts';
import { workerLabels } from './runner/labels.ts';

export interface StartOptions {
  /** Serve HTTP (receiver, API). */
  http: boolean;
  /** Run job and delivery workers in this process. */
  worker: boolean;
  log: Logger;
  /** The clock of endpoint failure runs and secret rotations (tests move it forward). */
  now?: () => number;
}

export interface Running {
  /** Base URL of the HTTP server, when serving. */
  url: string | null;
  redisUrl: string;
  pipelines(): PipelineSet;
  close(): Promise<void>;
}

/**
 * Starts pushci's roles in this process: `serve` is HTTP plus workers (unless --no-worker), `worker`
 * only workers. Problems a user can fix (pipelines, Redis, port) become a ConfigError with advice.
 */
export async function start(config: Readonly<Config>, opts: StartOptions): Promise<Running> {
  const { log } = opts;
  const clock = opts.now ? { now: opts.now } : {};
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const fn of closers.reverse())
      await fn().catch((err: Error) => log.warn({ err: err.message }, 'while stopping'));
  };
  try {
    if (opts.http && !config.redisUrl) {
      // First, so a second serve on the same data dir says so and touches nothing.
      const lock = await acquireServeLock(config.dataDir, () => ({ url: `http://localhost:${config.port}` }));
      closers.push(() => lock.release());
    }
    // Workspaces, mirrors and the embedded Redis's password live here: this user's alone.
    await ensurePrivateDir(config.dataDir);
    let set: PipelineSet = EMPTY_PIPELINE_SET;

    let redisUrl = config.redisUrl;
    if (!redisUrl && opts.http) {
      // Only the serve that holds the data dir's lock starts (and stops) the embedded Redis.
      const embedded: EmbeddedRedis = await startEmbeddedRedis(config.dataDir, log);
      closers.push(() => embedded.stop());
      redisUrl = embedded.url;
    } else if (!redisUrl) {
      redisUrl = await joinEmbeddedRedis(config.dataDir, log);
    }

    checkPrefixFor(redisUrl, config.queuePrefix);
    const connect = async (role: 'producer' | 'worker') => {
      const r = createRedis(redisUrl, role);
      closers.push(() => r.quit().catch(() => r.disconnect()));
      try {
        await waitReady(r, 5000);
      } catch {
        throw new ConfigError(
          `cannot reach Redis at ${redisUrl.replace(/\/\/[^@]*@/, '//***@')}: start it or fix REDIS_URL`,
        );
      }
      r.on('error', (err) => log.warn({ err: err.message, role }, 'redis connection error'));
      return r;
    };

    let url: string | null = null;
    if (opts.worker) {
      // The sandbox probe (one process) overlaps with connecting to Redis: a worker starts sooner.
      const [backend, redis]: [Awaited<ReturnType<typeof selectBackend>>, Redis] = await Promise.all([
        selectBackend(config, log),
        connect('worker'),
      ]);
      const stack: Stack = createStack(redis, config, log, clock);
      closers.push(() => stack.close());
      const jobWorker = await createJobWorker({
        config,
        connection: redis,
        redis,
        keys: stack.keys,
        store: stack.store,
        lifecycle: stack.lifecycle,
        log,
        backend,
        // Workers next to the HTTP server use it directly; others find it at PUSHCI_URL.
        serverUrl: () => url ?? config.serverUrl,
      });
      const deliveryWorker: Worker = createDeliveryWorker({
        config,
        connection: redis,
        log,
        deliveryLog: stack.deliveryLog,
        seal: stack.seal,
        endpoints: stack.endpoints,
        emitter: stack.emitter,
        definitions: {
          definition: (ref) => stack.store.definition(ref),
          buildDefinition: async (id) => (await stack.store.get(id))?.def ?? null,
        },
      });
      closers.push(() => Promise.all([jobWorker.close(config.shutdownGraceMs), deliveryWorker.close()]));
      // The Workers page: who is alive, what it runs. Stops (and leaves) before the workers close.
      const stopBeat = startHeartbeat(redis, stack.keys, {
        concurrency: config.concurrency,
        labels: workerLabels(config.runnerLabels ?? []),
        running: () => jobWorker.running(),
      });
      closers.push(stopBeat);
      // Messages to registered endpoints need the secrets key; the others do not, so a worker without it
      // still delivers them, and says what is wrong.
      if (!opts.http)
        await stack.endpoints
          .ready()
          .catch((err: Error) =>
            log.error({ err: err.message }, 'messages to registered endpoints cannot be signed here'),
          );
      log.info({ concurrency: config.concurrency }, 'workers started');
    }

    if (opts.http) {
      const redis = await connect('producer');
      const stack = createStack(redis, config, log, clock);
      closers.push(() => stack.close());
      // A key problem must not stop the intake: builds and the other endpoints work without it.
      await stack.endpoints
        .ready()
        .catch((err: Error) =>
          log.error({ err: err.message }, 'endpoint secrets cannot be read or written by this process'),
        );

      // Each file on its own: a broken one is served at its last good version (kept in Redis across
      // restarts), or not at all, and never holds back the others.
      const lastGood = new LastGoodPipelines(redis, stack.keys.lastGoodPipelines);
      const remembered = await lastGood.read().catch((err: Error) => {
        log.warn({ err: err.message }, 'could not read the last good pipelines from Redis');
        return new Map<string, LastGood>();
      });
      let schedules: { sync(): Promise<void> } | null = null;
      const apply = (next: PipelineSet, verb: 'loaded' | 'reloaded') => {
        set = next;
        void schedules?.sync();
        reportPipelineSet(next, log, verb, config.pipelinesDir);
        lastGood
          .record(next)
          .catch((err: Error) => log.warn({ err: err.message }, 'could not record the last good pipelines'));
      };
      apply(composePipelineSet(await loadPipelines(config.pipelinesDir, config.env), remembered), 'loaded');
      const watcher = watchPipelines({
        dir: config.pipelinesDir,
        env: config.env,
        current: () => set,
        onLoad: (next) => apply(next, 'reloaded'),
        onError(d) {
          log.error({ problem: formatDiagnostic(d) }, 'cannot reload the pipelines; the ones in force stay');
        },
      });
      closers.push(async () => watcher.close());
      const forges = new Map<string, Inbound>(FORGE_LIST.map((f) => [f.name, f.inbound(config)]));
      const secrets = FORGE_LIST.flatMap((f) => f.webhookSecrets(config));
      if (secrets.every((s) => s.values.length === 0)) {
        log.warn(
          `no webhook secret is set (${secrets.map((s) => s.env).join(', ')}): every webhook will be refused with 401`,
        );
      }
      // One subscription per process fans the cluster's build events out to every dashboard.
      const liveEvents = new EventEmitter();
      liveEvents.setMaxListeners(0);
      // Its own connection (worker role: it waits for Redis rather than failing fast; works on a Cluster too).
      const subscriber = createRedis(redisUrl, 'worker', 'pushci-events');
      logErrors(subscriber, log, 'live events connection');
      await subscriber.subscribe(stack.keys.eventsChannel);
      subscriber.on('message', (_channel: string, text: string) => liveEvents.emit('event', text));
      closers.push(() => subscriber.quit().catch(() => subscriber.disconnect()));
      // No anonymous API, ever: without PUSHCI_API_TOKEN, the token lives in the data dir.
      const generated = config.apiToken ? null : await ensureApiToken(config.dataDir);
      const apiToken = config.apiToken ?? generated!.token;
      const app = createApp({
        ...stack,
        liveEvents,
        forges,
        dedupeWindowMs: config.dedupeWindowMs,
        pipelines: () => set,
        maxBodyBytes: config.maxBodyBytes,
        publicUrl: config.publicUrl,
        forkPullRequests: config.forkPullRequests,
        apiToken,
        config,
        log,
      });
      // Housekeeping runs where the pipelines are loaded; its schedulers run each job once per period.
      const maintenanceRedis = await connect('worker');
      const maintenanceStack = createStack(maintenanceRedis, config, log);
      closers.push(() => maintenanceStack.close());
      const maintenance = await startMaintenance(
        config,
        maintenanceRedis,
        maintenanceStack,
        () => set.pipelines,
        log,
      );
      closers.push(() => maintenance.close());
      const scheduler = await startSchedules(
        {
          ...maintenanceStack,
          config,
          redis: maintenanceRedis,
          pipelines: () => set.pipelines,
          log,
        },
        maintenanceRedis,
      );
      closers.push(() => scheduler.close());
      schedules = scheduler;
      await scheduler.sync();
      const server: Server = createServer(
        {
          headersTimeout: Math.min(10_000, config.requestTimeoutMs),
          requestTimeout: config.requestTimeoutMs,
          // Node checks these timeouts every connectionsCheckingInterval (30 s by default), so a client
          // trickling its headers could hold a connection for 40 s instead of the documented 10.
          connectionsCheckingInterval: 500,
          keepAliveTimeout: 5_000,
        },
        app,
      );
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(
            err.code === 'EADDRINUSE'
              ? new ConfigError(`port ${config.port} is in use: stop what uses it or set PORT / --port`)
              : err,
          ),
        );
        server.listen(config.port, config.host, () => resolve());
      });
      closers.push(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), 2000).unref();
          }),
      );
      const addr = server.address() as AddressInfo;
      url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
      log.info({ url, public_url: config.publicUrl }, 'pushci is listening');
      if (generated) {
        // The one line that carries the token (as Jupyter's does): whoever reads this log could log in.
        const base =
          config.publicUrl === `http://localhost:${config.port}`
            ? `http://localhost:${addr.port}`
            : config.publicUrl;
        log.info(
          { token_file: generated.file, token_created: generated.created },
          `open the dashboard: ${base}/login?token=${encodeURIComponent(apiToken)}`,
        );
      }
    }
    return { url, redisUrl, pipelines: () => set, close };
  } catch (err) {
    await close();
    throw err;
  }
}
