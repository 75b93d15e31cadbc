import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../errors.ts';

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
    // The receiver's many concurrent requests share one connection: batch what they send in one tick.
    ...(role === 'producer'
      ? {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          enableAutoPipelining: true,
          // The intake's create script and the "why" records batch themselves (one call per event-loop
          // turn): sent at once, Redis starts on one batch while the receiver reads the next requests, and
          // no auto-pipeline (a Pipeline object copying every defined script) is made for one command.
          autoPipeliningIgnoredCommands: ['pushciCreate', 'pushciWebhookLog'],
        }
      : { maxRetriesPerRequest: null }),
  };
}

interface ParsedUrl {
  kind: 'single' | 'sentinel' | 'cluster';
  hosts: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  /** Sentinel: the monitored master's name. */
  name?: string;
  db?: number;
}

/**
 * Parses `redis+sentinel://[user:pass@]h1:26379,h2:26379/<master>[/<db>]` and
 * `redis+cluster://[user:pass@]h1:6379,h2:6379`; other URLs (`redis://`, `rediss://`, `unix://`) go to
 * ioredis as they are.
 */
export function parseRedisUrl(url: string): ParsedUrl {
  const m =
    /^redis\+(sentinel|cluster):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]+)(?:\/([^/]+))?(?:\/(\d+))?\/?$/.exec(
      url,
    );
  if (!m) return { kind: 'single', hosts: [] };
  const [, kind, user, pass, hostList, name, db] = m;
  const hosts = hostList!.split(',').map((h) => {
    const [host, port] = h.split(':');
    return { host: host!, port: Number(port ?? (kind === 'sentinel' ? 26379 : 6379)) };
  });
  if (kind === 'sentinel' && !name)
    throw new ConfigError('a redis+sentinel:// URL names the master: redis+sentinel://host:26379/mymaster');
  return {
    kind: kind as 'sentinel' | 'cluster',
    hosts,
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(pass ? { password: decodeURIComponent(pass) } : {}),
    ...(name ? { name } : {}),
    ...(db ? { db: Number(db) } : {}),
  };
}

/**
 * Opens a connection from `REDIS_URL`: a single server, a Sentinel set (`redis+sentinel://`) or a
 * Cluster (`redis+cluster://`). A Cluster is used through the same interface as a single server; every
 * key pushci and BullMQ write shares one hash tag (the `{...}` queue prefix), so its scripts and
 * transactions stay in one slot. Errors are reported by the caller's listener.
 */
export function createRedis(url: string, role: ConnectionRole, name = 'pushci'): Redis {
  const parsed = parseRedisUrl(url);
  const base = { ...redisOptions(role), connectionName: `${name}-${role}` };
  let redis: Redis;
  if (parsed.kind === 'sentinel') {
    const auth = {
      ...(parsed.username ? { username: parsed.username } : {}),
      ...(parsed.password ? { password: parsed.password } : {}),
    };
    redis = new Redis({
      ...base,
      ...auth,
      sentinels: parsed.hosts,
      name: parsed.name!,
      ...(parsed.db ? { db: parsed.db } : {}),
      replyMapping: 'legacy',
    });
  } else if (parsed.kind === 'cluster') {
    const auth = {
      ...(parsed.username ? { username: parsed.username } : {}),
      ...(parsed.password ? { password: parsed.password } : {}),
    };
    redis = new Cluster(parsed.hosts, {
      ...(role === 'producer' ? { enableOfflineQueue: false } : {}),
      clusterRetryStrategy: (times: number) => Math.min(100 * times, 2000),
      redisOptions: {
        connectTimeout: 3000,
        connectionName: base.connectionName,
        maxRetriesPerRequest: role === 'producer' ? 1 : null,
        ...auth,
      },
    }) as unknown as Redis;
  } else {
    redis = new Redis(url, { ...base, replyMapping: 'legacy' });
  }
  // Without a listener ioredis prints every reconnect failure; callers attach their own logging.
  redis.on('error', () => {});
  return redis;
}

/** Redis Cluster needs every key of a queue in one slot: the prefix must be a hash tag. */
export function checkPrefixFor(url: string, prefix: string): void {
  if (parseRedisUrl(url).kind === 'cluster' && !/^\{[^}]+\}/.test(prefix)) {
    throw new ConfigError(
      `on Redis Cluster the key prefix must be a hash tag: set PUSHCI_QUEUE_PREFIX={${prefix}}`,
    );
  }
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
