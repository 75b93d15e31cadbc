import { Redis, type RedisOptions } from 'ioredis';

/**
 * - `producer`: the receiver's connection. Commands fail fast while Redis is away (no offline queue,
 *   one retry), so a webhook gets a quick 503 instead of a 2xx for a push that was not stored.
 * - `worker`: BullMQ workers block on Redis and must retry forever (`maxRetriesPerRequest: null`).
 */
export type ConnectionRole = 'producer' | 'worker';

export function redisOptions(role: ConnectionRole): RedisOptions {
  const retryStrategy = (times: number): number => Math.min(100 * times, 2000);
  return {
    lazyConnect: false,
    connectTimeout: 3000,
    // Reconnect forever, backing off to one attempt every 2 s: Redis coming back must heal every process.
    retryStrategy,
    ...(role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
      : { maxRetriesPerRequest: null }),
  };
}

/** Opens a connection from a `redis://`, `rediss://` or `unix://` URL. Errors are reported by the caller's listener. */
export function createRedis(url: string, role: ConnectionRole, name = 'pushci'): Redis {
  const redis = new Redis(url, {
    ...redisOptions(role),
    connectionName: `${name}-${role}`,
    replyMapping: 'legacy',
  });
  // Without a listener ioredis prints every reconnect failure; callers attach their own logging.
  redis.on('error', () => {});
  return redis;
}

/** Resolves once the connection is ready, or rejects after `ms`. */
export async function waitReady(redis: Redis, ms = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not reachable within ${ms} ms`));
    }, ms);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
