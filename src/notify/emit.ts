import { createHash, randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { CommitStatus } from '../forges/forge.ts';
import type { BuildStatus, ForgeName, JobView, OutboundEventType } from '../model.ts';
import { notifyWants } from '../pipelines/match.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import { toView } from '../queue/build-view.ts';
import type { BuildRecord } from '../queue/build-record.ts';
import type { DeliverySeal } from './delivery-seal.ts';

/** Messages about pushci itself, for the operator's global endpoints (`PUSHCI_NOTIFY_URLS`) only. */
export type OperatorEventType = 'endpoint.disabled';

interface DeliveryCommon {
  /** `webhook-id`: the same on every attempt, so receivers can de-duplicate. */
  msgId: string;
  type: OutboundEventType | OperatorEventType;
  /** Empty for messages that are about no build (tests, operator events). */
  buildId: string;
  /** The build's number (`ci #12`); absent for messages about no build. */
  buildNumber?: number;
  pipeline: string;
  endpointId: string;
  /** What the attempt log shows as the target (never with secrets resolved). */
  target: string;
}

/**
 * Which endpoint a message goes to, by reference: the worker looks the URL and secrets up at send time in
 * pushci's own configuration, never in the job's data.
 */
export type EndpointRef =
  /** `notify[index]` of the pipeline snapshot the build was created from. */
  | { kind: 'pipeline'; snapshot: string; index: number }
  /** The `PUSHCI_NOTIFY_URLS` entry whose endpoint id this is. */
  | { kind: 'global'; id: string }
  /** An endpoint registered through the API. */
  | { kind: 'subscription'; id: string };

/** A Standard Webhooks message to a `notify` endpoint or a global one. */
export interface WebhookDelivery extends DeliveryCommon {
  kind: 'webhook';
  endpoint: EndpointRef;
  body: string;
  /** A "send test event" message: sent whatever the endpoint's state, and it changes no state. */
  test?: true;
}

/** A commit status on the forge (GitHub statuses API, GitLab commit statuses API). */
export interface StatusDelivery extends DeliveryCommon, CommitStatus {
  kind: 'status';
  forge: ForgeName;
}

export type DeliveryJob = WebhookDelivery | StatusDelivery;

/** A job as it sits in the queue: the delivery and the seal that shows pushci queued it. */
export type SealedDelivery = DeliveryJob & { seal: string };

/** Stable id of an endpoint: the pipeline (or `*` for global ones) plus the URL as written. */
export function endpointId(pipeline: string, url: string): string {
  return createHash('sha256').update(`${pipeline}\n${url}`).digest('hex').slice(0, 16);
}

export interface Emitter {
  /** `live: false` when the dashboards' event was already published (the intake does it atomically). */
  emit(type: OutboundEventType, record: BuildRecord, job?: string, opts?: { live?: boolean }): Promise<void>;
  /** An operator event (an endpoint was disabled) to every global endpoint. */
  emitOperator(type: OperatorEventType, key: string, data: Record<string, unknown>): Promise<void>;
  /** One example message to one registered endpoint, through the queue and the delivery log. */
  emitTest(endpoint: { id: string; url: string }, type: OutboundEventType, body: string): Promise<string>;
}

/** Which registered endpoints want an event; see EndpointStore.subscribers. */
export interface Subscriptions {
  subscribers(
    type: string,
    pipeline: string,
    branch: string | null,
  ): Promise<Array<{ id: string; url: string }>>;
}

/** What dashboards get for one build or job event (`/api/events`); the intake writes build.queued's itself (NewBuild.announce). */
function liveSummary(type: OutboundEventType, b: BuildRecord, job?: string): Record<string, unknown> {
  return {
    type,
    id: b.meta.id,
    pipeline: b.meta.pipeline,
    number: b.number,
    status: b.status,
    ...(job ? { job, job_status: b.jobs.get(job)?.status } : {}),
  };
}

const BUILD_EVENTS: ReadonlySet<OutboundEventType> = new Set([
  'build.queued',
  'build.started',
  'build.completed',
]);

function describe(record: BuildRecord): string {
  const took =
    record.started_at && record.finished_at
      ? ` in ${Math.round((Date.parse(record.finished_at) - Date.parse(record.started_at)) / 1000)} s`
      : '';
  const text: Record<BuildStatus, string> = {
    'pending-approval': 'waiting for approval: a pull request from a fork',
    queued: 'queued',
    running: 'running',
    success: `passed${took}`,
    failure: `failed${took}${record.reason ? `: ${record.reason}` : ''}`,
    error: `errored: ${record.reason ?? 'see the log'}`,
    canceled: `canceled${record.reason ? `: ${record.reason}` : ''}`,
    skipped: `skipped${record.reason ? `: ${record.reason}` : ''}`,
  };
  // A fork's build says so wherever it shows: it ran (or runs) without secrets.
  return `${record.meta.pull_request?.fork && record.status !== 'pending-approval' ? 'fork, no secrets: ' : ''}${text[record.status]}`;
}

const DELIVERY_OPTS = {
  backoff: { type: 'schedule' },
  removeOnComplete: { age: 7 * 86400, count: 50_000 },
  removeOnFail: { age: 30 * 86400, count: 50_000 },
};

/**
 * Snapshots the build into one delivery per receiver that wants the event (pipeline endpoints, global
 * endpoints, the commit status) and queues them. Job ids are the message ids, so emitting the same
 * event twice queues it once.
 */
export function createEmitter(
  deliveries: Queue,
  config: Pick<Config, 'publicUrl' | 'notifyRetrySchedule' | 'notifyUrls'>,
  seal: DeliverySeal,
  snapshotRef: (def: Pipeline) => string,
  subscriptions: Subscriptions | null,
  live?: { redis: Redis; channel: string },
): Emitter {
  const queue = async (name: string, out: DeliveryJob[]) => {
    if (out.length === 0) return;
    const sealed: SealedDelivery[] = await Promise.all(
      out.map(async (d) => ({ ...d, seal: await seal.seal(d) })),
    );
    const opts = (d: DeliveryJob) => ({
      ...DELIVERY_OPTS,
      jobId: d.msgId,
      attempts: config.notifyRetrySchedule.length,
    });
    // One message (the common case) is a plain add: BullMQ's addBulk builds a MULTI for every call.
    if (sealed.length === 1) await deliveries.add(name, sealed[0]!, opts(sealed[0]!));
    else await deliveries.addBulk(sealed.map((d) => ({ name, data: d, opts: opts(d) })));
  };
  return {
    async emitOperator(type, key, data) {
      const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
      await queue(
        type,
        config.notifyUrls.map((url, i) => {
          const id = endpointId('*', url);
          return {
            kind: 'webhook',
            msgId: `msg_${type}_${key}_g${i}`,
            type,
            buildId: '',
            pipeline: '',
            endpointId: id,
            target: url,
            endpoint: { kind: 'global', id },
            body,
          };
        }),
      );
    },
    async emitTest(endpoint, type, body) {
      const msgId = `msg_test_${randomBytes(12).toString('hex')}`;
      await queue(type, [
        {
          kind: 'webhook',
          msgId,
          type,
          buildId: '',
          pipeline: '',
          endpointId: endpoint.id,
          target: endpoint.url,
          endpoint: { kind: 'subscription', id: endpoint.id },
          body,
          test: true,
        },
      ]);
      return msgId;
    },
    async emit(type, record, job, how) {
      // Dashboards follow builds through this channel; nothing is lost if nobody listens.
      if (live && how?.live !== false) {
        void live.redis.publish(live.channel, JSON.stringify(liveSummary(type, record, job))).catch(() => 0);
      }
      const m = record.meta;
      const out: DeliveryJob[] = [];
      const suffix = job ? `_${job}` : '';
      let body: string | null = null;
      const payload = () => {
        if (body !== null) return body;
        const build = toView(record, config.publicUrl);
        const data: { build: typeof build; job?: JobView } = { build };
        if (job) data.job = build.jobs.find((j) => j.name === job)!;
        return (body = JSON.stringify({ type, timestamp: new Date().toISOString(), data }));
      };
      let snapshot: string | null = null;
      record.def.notify.forEach((n, i) => {
        if (!n.events.includes(type) || !notifyWants(n, m.branch)) return;
        const common = {
          msgId: `msg_${m.id}_${type}${suffix}_${i}`,
          type,
          buildId: m.id,
          buildNumber: record.number,
          pipeline: m.pipeline,
          target: n.url,
        };
        out.push({
          ...common,
          kind: 'webhook',
          endpointId: endpointId(m.pipeline, n.url),
          endpoint: { kind: 'pipeline', snapshot: (snapshot ??= snapshotRef(record.def)), index: i },
          body: payload(),
        });
      });
      if (subscriptions) {
        for (const { id, url } of await subscriptions.subscribers(type, m.pipeline, m.branch)) {
          out.push({
            kind: 'webhook',
            msgId: `msg_${m.id}_${type}${suffix}_${id}`,
            type,
            buildId: m.id,
            buildNumber: record.number,
            pipeline: m.pipeline,
            endpointId: id,
            target: url,
            endpoint: { kind: 'subscription', id },
            body: payload(),
          });
        }
      }
      if (BUILD_EVENTS.has(type)) {
        config.notifyUrls.forEach((url, i) => {
          const common = {
            msgId: `msg_${m.id}_${type}_g${i}`,
            type,
            buildId: m.id,
            buildNumber: record.number,
            pipeline: m.pipeline,
            target: url,
          };
          const id = endpointId('*', url);
          out.push({
            ...common,
            kind: 'webhook',
            endpointId: id,
            endpoint: { kind: 'global', id },
            body: payload(),
          });
        });
        if (record.def.commitStatus) {
          out.push({
            kind: 'status',
            msgId: `st_${m.id}_${type}`,
            type,
            buildId: m.id,
            buildNumber: record.number,
            pipeline: m.pipeline,
            endpointId: endpointId(m.pipeline, `${m.forge}-status`),
            target: `${m.forge} commit status ${record.def.commitStatus}`,
            forge: m.forge,
            repository: m.repository,
            sha: m.sha,
            ref: m.pull_request?.source_branch ?? m.branch ?? m.tag ?? m.ref,
            status: record.status,
            context: record.def.commitStatus,
            description: describe(record),
            // The "Details" link people click on the forge: the build page, not the JSON API.
            targetUrl: `${config.publicUrl}/#/builds/${m.id}`,
          });
        }
      }
      await queue(type, out);
    },
  };
}
