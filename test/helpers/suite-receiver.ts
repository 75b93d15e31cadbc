import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type TestRedis } from './redis.ts';
import { startServer, type TestServer } from './server.ts';

/** What suiteReceiver starts; read it in the suite's tests (it is filled in before them). */
export interface SuiteReceiver {
  redis: TestRedis;
  server: TestServer;
  /** A connection of the test's own, to look at what the receiver stored. */
  client: Redis;
  /** How many builds are stored (the builds index). */
  builds(): Promise<number>;
}

/**
 * Call inside a `describe`: a private Redis and a pushci without workers (builds stay queued, so a
 * suite sees only what the receiver did), with the pipelines `pipelines` and `env`.
 */
export function suiteReceiver(pipelines: Record<string, string>, env: Record<string, string>): SuiteReceiver {
  const s = {
    builds: () => s.client.zcard(`${s.redis.prefix}:index:builds`),
  } as SuiteReceiver;
  before(async () => {
    s.redis = await startRedis();
    s.server = await startServer(s.redis, pipelines, env, { worker: false });
    s.client = new Redis(s.redis.url);
  });
  after(async () => {
    s.client?.disconnect();
    await s.server?.close();
    await s.redis?.stop();
  });
  return s;
}
