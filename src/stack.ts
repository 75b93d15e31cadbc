import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { Lifecycle } from './builds/lifecycle.ts';
import type { Logger } from './log.ts';
import { logErrors } from './log-errors.ts';
import { DeliveryLog } from './notify/delivery-log.ts';
import { DeliverySeal } from './notify/delivery-seal.ts';
import { createEmitter, type Emitter } from './notify/emit.ts';
import { EndpointStore } from './notify/endpoint-store.ts';
import type { SecretBox } from './notify/secret-box.ts';
import { loadSecretsKey } from './notify/secrets-key.ts';
import { DELIVERIES_QUEUE, JOBS_QUEUE, keys, type Keys } from './queue/keys.ts';
import { BuildStore } from './queue/store.ts';

/** The Redis-backed parts every role uses, built on one connection. */
export interface Stack {
  redis: Redis;
  keys: Keys;
  store: BuildStore;
  jobs: Queue;
  deliveries: Queue;
  emitter: Emitter;
  lifecycle: Lifecycle;
  deliveryLog: DeliveryLog;
  seal: DeliverySeal;
  endpoints: EndpointStore;
  close(): Promise<void>;
}

export interface StackOptions {
  /** The clock of endpoint failure runs and rotations (tests move it forward). */
  now?: () => number;
}

export function createStack(
  redis: Redis,
  config: Readonly<Config>,
  log: Logger,
  options: StackOptions = {},
): Stack {
  const k = keys(config.queuePrefix);
  const opts = { connection: redis, prefix: config.queuePrefix };
  const jobs = new Queue(JOBS_QUEUE, opts);
  const deliveries = new Queue(DELIVERIES_QUEUE, opts);
  const store = new BuildStore(redis, k, jobs.keys);
  logErrors(jobs, log, 'jobs queue');
  logErrors(deliveries, log, 'deliveries queue');
  const seal = new DeliverySeal(redis, k);
  let box: Promise<SecretBox> | null = null;
  const endpoints = new EndpointStore({
    redis,
    keys: k,
    // Loaded on first use, and again after a failure (a key set after the error message said how).
    secrets: () =>
      (box ??= loadSecretsKey({
        configured: config.secretsKey,
        dataDir: config.dataDir,
        redis,
        keys: k,
      }).catch((err: unknown) => {
        box = null;
        throw err;
      })),
    ...(options.now ? { now: options.now } : {}),
  });
  const emitter = createEmitter(deliveries, config, seal, (def) => store.snapshotRef(def), endpoints, {
    redis,
    channel: k.eventsChannel,
  });
  return {
    redis,
    keys: k,
    store,
    jobs,
    deliveries,
    emitter,
    lifecycle: new Lifecycle(store, jobs, emitter, log, redis),
    deliveryLog: new DeliveryLog(redis, k),
    seal,
    endpoints,
    async close() {
      await Promise.allSettled([jobs.close(), deliveries.close()]);
    },
  };
}

/** What a job worker takes from the stack: its connection, keys, store and lifecycle. */
export function jobWorkerParts(stack: Stack) {
  const { redis, keys, store, lifecycle } = stack;
  return { connection: redis, redis, keys, store, lifecycle };
}
