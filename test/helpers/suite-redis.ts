import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type TestRedis } from './redis.ts';

/** What suiteRedis starts; read it in the suite's tests (it is filled in before them). */
export interface SuiteRedis {
  redis: TestRedis;
  /** A connection to it, for the suite's own reads and writes. */
  client: Redis;
}

/** Call inside a `describe`: a private Redis and a client on it before its tests; both gone after them. */
export function suiteRedis(): SuiteRedis {
  const s = {} as SuiteRedis;
  before(async () => {
    s.redis = await startRedis();
    s.client = new Redis(s.redis.url);
  });
  after(async () => {
    s.client?.disconnect();
    await s.redis?.stop();
  });
  return s;
}
