import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { JobView, OutboundEventType } from '../model.ts';
import { notifyWants } from '../pipelines/match.ts';
import { toView, type BuildRecord } from '../queue/store.ts';

/** One outbound message to one endpoint: a BullMQ job of the deliveries queue. */
export interface DeliveryJob {
  /** `webhook-id`: the same on every attempt, so receivers can de-duplicate. */
  msgId: string;
  type: OutboundEventType;
  buildId: string;
  pipeline: string;
  endpointId: string;
  /** URL and secrets as written in the pipeline (`${{ }}` resolved by the delivering worker). */
  url: string;
  secrets: string[];
  body: string;
}

/** Stable id of an endpoint: the pipeline plus the URL as written. */
export function endpointId(pipeline: string, url: string): string {
  return createHash('sha256').update(`${pipeline}\n${url}`).digest('hex').slice(0, 16);
}

export interface Emitter {
  emit(type: OutboundEventType, record: BuildRecord, job?: string): Promise<void>;
}

/**
 * Snapshots the build into a payload per endpoint that wants the event and queues them. Job ids are the
 * message ids, so emitting the same event twice queues it once.
 */
export function createEmitter(deliveries: Queue, publicUrl: string, retryAttempts: number): Emitter {
  return {
    async emit(type, record, job) {
      const endpoints = record.def.notify
        .map((n, i) => ({ n, i }))
        .filter(({ n }) => n.events.includes(type) && notifyWants(n, record.meta.branch));
      if (endpoints.length === 0) return;
      const build = toView(record, publicUrl);
      const data: { build: typeof build; job?: JobView } = { build };
      if (job) data.job = build.jobs.find((j) => j.name === job)!;
      const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
      const suffix = job ? `_${job}` : '';
      await deliveries.addBulk(
        endpoints.map(({ n, i }) => {
          const msgId = `msg_${record.meta.id}_${type}${suffix}_${i}`;
          const payload: DeliveryJob = {
            msgId,
            type,
            buildId: record.meta.id,
            pipeline: record.meta.pipeline,
            endpointId: endpointId(record.meta.pipeline, n.url),
            url: n.url,
            secrets: n.secrets,
            body,
          };
          return {
            name: type,
            data: payload,
            opts: {
              jobId: msgId,
              attempts: retryAttempts,
              backoff: { type: 'schedule' },
              removeOnComplete: { age: 7 * 86400, count: 50_000 },
              removeOnFail: { age: 30 * 86400, count: 50_000 },
            },
          };
        }),
      );
    },
  };
}
