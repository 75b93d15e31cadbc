import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { UnresolvedReferenceError, resolveTemplate } from '../pipelines/expressions.ts';
import { DELIVERIES_QUEUE } from '../queue/keys.ts';
import type { DeliveryJob } from './emit.ts';
import { postJson } from './post.ts';
import { checkSecret, signatureHeader } from './sign.ts';
import { RefusedAddressError, createAddressGuard } from './ssrf.ts';
import { DeliveryLog } from './delivery-log.ts';

/** A receiver asked for a pause (429/503 with Retry-After). */
class RetryAfterError extends Error {
  readonly delayMs: number;
  constructor(message: string, delayMs: number) {
    super(message);
    this.delayMs = delayMs;
  }
}

const RETRY_AFTER_MIN_MS = 1000;
const RETRY_AFTER_MAX_MS = 6 * 3600_000;

function retryAfterMs(value: string | undefined): number | null {
  if (!value) return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  if (!Number.isFinite(ms)) return null;
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, ms));
}

/** Delay before attempt `attemptsMade + 1`, from the schedule, with ±20% jitter. */
export function scheduledDelay(
  schedule: readonly number[],
  attemptsMade: number,
  random = Math.random,
): number {
  const base = schedule[Math.min(attemptsMade, schedule.length - 1)] ?? 0;
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface DeliveryWorkerDeps {
  config: Readonly<Config>;
  connection: Redis;
  log: Logger;
  deliveryLog: DeliveryLog;
  concurrency?: number;
}

/**
 * Sends outbound webhooks. Each message is its own BullMQ job, so a slow or dead receiver only delays
 * its own messages. A fresh timestamp and signature on every attempt; the same `webhook-id`.
 */
export function createDeliveryWorker({
  config,
  connection,
  log,
  deliveryLog,
  concurrency = 16,
}: DeliveryWorkerDeps): Worker {
  const guard = createAddressGuard(config.notifyAllow);

  const process = async (job: Job<DeliveryJob>) => {
    const d = job.data;
    const attempt = job.attemptsMade + 1;
    if (await deliveryLog.isDisabled(d.endpointId)) {
      const reason = `endpoint ${d.endpointId} is disabled after a 410 Gone; re-enable it with POST /api/endpoints/${d.endpointId}/enable`;
      await deliveryLog.record(
        d,
        { attempt, at: new Date().toISOString(), status: null, duration_ms: 0, error: reason, body: null },
        'failed',
      );
      throw new UnrecoverableError(reason);
    }
    let url: string;
    let secrets: string[];
    try {
      url = resolveTemplate(d.url, config.env);
      secrets = d.secrets.map((s) => resolveTemplate(s, config.env));
      secrets.forEach(checkSecret);
    } catch (err) {
      const reason =
        err instanceof UnresolvedReferenceError
          ? err.message
          : `bad endpoint configuration: ${(err as Error).message}`;
      await deliveryLog.record(
        d,
        { attempt, at: new Date().toISOString(), status: null, duration_ms: 0, error: reason, body: null },
        'failed',
      );
      throw new UnrecoverableError(reason);
    }
    const now = new Date();
    const headers = {
      'webhook-id': d.msgId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signatureHeader(secrets, d.msgId, now, d.body),
    };
    const at = now.toISOString();
    const last = attempt >= (job.opts.attempts ?? 1);
    let res;
    try {
      res = await postJson(url, headers, d.body, { guard, timeoutMs: config.notifyTimeoutMs });
    } catch (err) {
      const refused = err instanceof RefusedAddressError;
      const message = (err as Error).message;
      await deliveryLog.record(
        d,
        { attempt, at, status: null, duration_ms: 0, error: message, body: null },
        refused || last ? 'failed' : 'retrying',
      );
      log.warn(
        { msg_id: d.msgId, build_id: d.buildId, attempt, err: message },
        refused ? 'delivery refused' : 'delivery failed',
      );
      if (refused) throw new UnrecoverableError(message);
      throw err;
    }
    const ok = res.status >= 200 && res.status < 300;
    const entry = {
      attempt,
      at,
      status: res.status,
      duration_ms: res.durationMs,
      error: ok ? null : `receiver answered ${res.status}`,
      body: res.body,
    };
    if (ok) {
      await deliveryLog.record(d, entry, 'delivered');
      log.debug({ msg_id: d.msgId, build_id: d.buildId, attempt, status: res.status }, 'delivered');
      return;
    }
    if (res.status === 410) {
      await deliveryLog.disable(d.endpointId, `410 Gone from ${d.type} delivery ${d.msgId}`);
      await deliveryLog.record(
        d,
        { ...entry, error: 'receiver answered 410 Gone; endpoint disabled' },
        'failed',
      );
      throw new UnrecoverableError('receiver answered 410 Gone; endpoint disabled');
    }
    await deliveryLog.record(d, entry, last ? 'failed' : 'retrying');
    log.warn(
      { msg_id: d.msgId, build_id: d.buildId, attempt, status: res.status },
      'delivery answered with an error',
    );
    const wait =
      res.status === 429 || res.status === 503
        ? retryAfterMs(res.headers['retry-after'] as string | undefined)
        : null;
    if (wait !== null) throw new RetryAfterError(`receiver answered ${res.status} with Retry-After`, wait);
    throw new Error(`receiver answered ${res.status}`);
  };

  return new Worker<DeliveryJob>(DELIVERIES_QUEUE, process, {
    connection,
    prefix: config.queuePrefix,
    concurrency,
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
        err instanceof RetryAfterError
          ? err.delayMs
          : scheduledDelay(config.notifyRetrySchedule, attemptsMade),
    },
  });
}
