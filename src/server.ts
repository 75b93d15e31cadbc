import type { Config } from './config.ts';
import { ConfigError } from './errors.ts';
import { ensurePrivateDir } from './data-dir.ts';
import type { Logger } from './log.ts';
import { EMPTY_PIPELINE_SET, type PipelineSet } from './pipelines/pipeline-set.ts';
import { checkPrefixFor, createRedis, waitReady } from './queue/connection.ts';
import { joinEmbeddedRedis, startEmbeddedRedis, type EmbeddedRedis } from './redis/embedded.ts';
import { acquireServeLock } from './redis/serve-lock.ts';
import { startHttp } from './start-http.ts';
import { startWorkers } from './start-workers.ts';

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
  /**
   * What must not be left behind when the process exits at once (a second signal, or stopping took
   * too long): the embedded Redis is told to shut down (it saves and exits on its own).
   */
  exitNow(): void;
}

/**
 * Starts pushci's roles in this process: `serve` is HTTP plus workers (unless --no-worker), `worker`
 * only workers. Problems a user can fix (pipelines, Redis, port) become a ConfigError with advice.
 */
export async function start(config: Readonly<Config>, opts: StartOptions): Promise<Running> {
  const { log } = opts;
  const clock = opts.now ? { now: opts.now } : {};
  const closers: Array<() => Promise<unknown>> = [];
  let exitNow = () => {};
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
    let redisUrl = config.redisUrl;
    if (!redisUrl && opts.http) {
      // Only the serve that holds the data dir's lock starts (and stops) the embedded Redis.
      const embedded: EmbeddedRedis = await startEmbeddedRedis(config.dataDir, log);
      closers.push(() => embedded.stop());
      exitNow = () => embedded.stopNow();
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
    if (opts.worker)
      await startWorkers(config, {
        log,
        clock,
        connect,
        // Workers next to the HTTP server use it directly; others find it at PUSHCI_URL.
        serverUrl: () => url ?? config.serverUrl,
        withHttp: opts.http,
        closers,
      });
    let pipelines = () => EMPTY_PIPELINE_SET;
    if (opts.http) ({ url, pipelines } = await startHttp(config, { log, clock, redisUrl, connect, closers }));
    return { url, redisUrl, pipelines: () => pipelines(), close, exitNow: () => exitNow() };
  } catch (err) {
    await close();
    throw err;
  }
}
