import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { Lifecycle } from './builds/lifecycle.ts';
import type { Logger } from './log.ts';
import { DeliveryLog } from './notify/delivery-log.ts';
import { DeliverySeal } from './notify/delivery-seal.ts';
import { createEmitter, type Emitter } from './notify/emit.ts';
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
  close(): Promise<void>;
}

export function createStack(redis: Redis, config: Readonly<Config>, log: Logger): Stack {
  const k = keys(config.queuePrefix);
  const opts = { connection: redis, prefix: config.queuePrefix };
  const jobs = new Queue(JOBS_QUEUE, opts);
  const deliveries = new Queue(DELIVERIES_QUEUE, opts);
  const store = new BuildStore(redis, k, jobs.keys);
  jobs.on('error', () => {});
  deliveries.on('error', () => {});
  const seal = new DeliverySeal(redis, config.queuePrefix);
  const emitter = createEmitter(deliveries, config, seal, (def) => store.snapshotRef(def), {
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
    deliveryLog: new DeliveryLog(redis, config.queuePrefix),
    seal,
    async close() {
      await Promise.allSettled([jobs.close(), deliveries.close()]);
    },
  };
}
