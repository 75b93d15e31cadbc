import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { DELIVERIES_QUEUE } from '../queue/keys.ts';
import { MissingTokenError, statusRequest } from './commit-status.ts';
import type { Attempt, DeliveryLog, DeliveryState } from './delivery-log.ts';
import type { DeliverySeal } from './delivery-seal.ts';
import type { Emitter, SealedDelivery, WebhookDelivery } from './emit.ts';
import type { EndpointStore, StoredEndpoint } from './endpoint-store.ts';
import { SecretBoxError } from './secret-box.ts';
import { ConfigError } from '../errors.ts';
import { postJson } from './post.ts';
import { createEndpointGate } from './endpoint-gate.ts';
import { CannotSendError, resolveEndpoint, type ResolveDeps } from './resolve-endpoint.ts';
import { signatureHeader } from './sign.ts';
import { RefusedAddressError, createAddressGuard } from './ssrf.ts';
import { RetryAfterError, retryAfterMs, scheduledDelay } from './retry-timing.ts';
import { createEndpointCircuits } from './endpoint-circuits.ts';
import { batchedFinish } from '../queue/batched-finish.ts';

/** How often a delivery may lose its worker before it counts as failed. */
const MAX_STALLS = 10;

export interface DeliveryWorkerDeps {
  config: Readonly<Config>;
  connection: Redis;
  log: Logger;
  deliveryLog: DeliveryLog;
  seal: DeliverySeal;
  /** Where pipeline endpoints are looked up (the build store's snapshots). */
  definitions: Pick<ResolveDeps, 'definition' | 'buildDefinition'>;
  /** Registered endpoints: their state, secrets and failure runs. */
  endpoints: EndpointStore;
  /** For `endpoint.disabled` to the operator's global endpoints. */
  emitter: Pick<Emitter, 'emitOperator'>;
  concurrency?: number;
}

function signed(d: WebhookDelivery, url: string, secrets: string[]) {
  const now = new Date();
  const headers = {
    'webhook-id': d.msgId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signatureHeader(secrets, d.msgId, now, d.body),
  };
  return { url, headers, body: d.body };
}

/**
 * Sends outbound webhooks and commit statuses. Each message is its own BullMQ job, and a new or slow
 * endpoint gets at most `notifyEndpointConcurrency` of the `concurrency` slots (a fast one all but that
 * many), so a slow or dead receiver only delays its own messages. Webhooks get a fresh timestamp and
 * signature on every attempt and keep their `webhook-id`. Every attempt is recorded. A registered
 * endpoint that is paused holds or drops its messages, and one that fails for
 * `PUSHCI_ENDPOINT_DISABLE_AFTER` without a success, or answers 410, is disabled.
 */
export function createDeliveryWorker({
  config,
  connection,
  log,
  deliveryLog,
  seal,
  definitions,
  endpoints,
  emitter,
  concurrency = config.notifyConcurrency,
}: DeliveryWorkerDeps): Worker {
  const resolveDeps: ResolveDeps = { config, endpoints, ...definitions };
  const guard = createAddressGuard(config.notifyAllow);
  const gate = createEndpointGate(
    Math.min(config.notifyEndpointConcurrency, concurrency),
    concurrency,
    config.notifyTimeoutMs,
  );
  const circuits = createEndpointCircuits({ config, log, deliveryLog });

  /** Disables a registered endpoint and tells the operator, once. */
  const disable = async (e: StoredEndpoint, reason: string) => {
    if (!(await endpoints.disable(e.id, reason))) return;
    log.warn({ endpoint_id: e.id, reason }, 'endpoint disabled');
    await emitter
      .emitOperator('endpoint.disabled', `${e.id}_${endpoints.now()}`, {
        endpoint: { id: e.id, url: e.url, description: e.description },
        reason,
        failing_since: e.failingSince === null ? null : new Date(e.failingSince).toISOString(),
        disabled_at: new Date(endpoints.now()).toISOString(),
      })
      .catch((err: Error) => log.warn({ err: err.message }, 'could not queue endpoint.disabled'));
  };

  /** How often each message was set aside by the gate: each time it waits twice as long. */
  const parked = new Map<string, number>();

  const deliver = async (job: Job<SealedDelivery>, token?: string) => {
    // A job pushci did not queue (added or edited through Bull Board, or by any other queue client) is
    // never sent, and never written into the delivery log, whose records it might otherwise overwrite.
    if (!(await seal.verify(job.data))) {
      log.warn(
        { job_id: job.id, queue: DELIVERIES_QUEUE },
        'delivery refused: the job was not queued by pushci (no valid seal); nothing was sent',
      );
      throw new UnrecoverableError('refused: this delivery job was not queued by pushci');
    }
    const d = job.data;
    const attempt = job.attemptsMade + 1;
    const last = attempt >= (job.opts.attempts ?? 1);
    const at = new Date().toISOString();
    const record = (entry: Partial<Attempt>, state: DeliveryState) =>
      deliveryLog.record(
        d,
        { attempt, at, status: null, duration_ms: 0, error: null, body: null, ...entry },
        state,
      );
    const giveUp = async (reason: string): Promise<never> => {
      await record({ error: reason }, 'failed');
      log.warn({ msg_id: d.msgId, build_id: d.buildId, attempt, reason }, 'delivery refused');
      throw new UnrecoverableError(reason);
    };

    let subscription: StoredEndpoint | null = null;
    if (d.kind === 'webhook' && d.endpoint.kind === 'subscription') {
      subscription = await endpoints.get(d.endpoint.id);
      if (subscription && !d.test) {
        const e = subscription;
        if (e.state === 'disabled')
          await giveUp(
            `endpoint ${e.id} is disabled (${e.stateReason ?? 'no reason'}); resume it with POST /api/endpoints/${e.id}/resume and redeliver`,
          );
        if (e.state === 'paused') {
          if (e.onPause === 'drop') {
            await record({ error: 'endpoint paused (on_pause: drop): not sent' }, 'dropped');
            return;
          }
          const until = job.timestamp + config.endpointPauseRetentionMs;
          if (Date.now() >= until) {
            await endpoints.release(e.id, d.msgId);
            await record(
              { error: 'endpoint paused longer than PUSHCI_ENDPOINT_PAUSE_RETENTION: dropped' },
              'dropped',
            );
            return;
          }
          await endpoints.hold(e.id, d.msgId);
          // Resumed meanwhile: the resume may have missed this message; send it now instead.
          if ((await endpoints.get(e.id))?.state === 'paused') {
            await record({ error: 'endpoint paused: held until it is resumed' }, 'held');
            await job.moveToDelayed(until, token);
            throw new DelayedError();
          }
          await endpoints.release(e.id, d.msgId);
        }
      }
    } else if (d.kind === 'webhook' && (await deliveryLog.isDisabled(d.endpointId))) {
      await giveUp(
        `endpoint ${d.endpointId} is disabled after a 410 Gone; re-enable it with POST /api/endpoints/${d.endpointId}/enable`,
      );
    }
    // Registered endpoints count failures towards disabling; test messages change nothing.
    const tracked = subscription !== null && !(d.kind === 'webhook' && d.test);

    // Test messages go whatever the endpoint's state, and their outcome changes none.
    const counted = !(d.kind === 'webhook' && d.test);
    const verdict = counted ? circuits.check(d.endpointId, job.timestamp) : { probe: false };
    if ('untilMs' in verdict) {
      // The endpoint's circuit is open: keep the message for later, without using an attempt.
      await job.moveToDelayed(verdict.untilMs, token);
      throw new DelayedError();
    }
    const place = gate.enter(d.endpointId, Date.now(), parked.get(job.id!) ?? 0);
    if ('waitMs' in place) {
      // The endpoint already has its share of slots busy: look again later, without using an attempt.
      if (verdict.probe) circuits.abandon(d.endpointId);
      if (parked.size >= 100_000) parked.clear();
      parked.set(job.id!, (parked.get(job.id!) ?? 0) + 1);
      await job.moveToDelayed(Date.now() + place.waitMs, token);
      throw new DelayedError();
    }
    parked.delete(job.id!);
    // The URL and secrets are looked up and the message signed only once it may go: a message kept back
    // by an open circuit or a full endpoint costs no secret decryption and no signature.
    let request: { url: string; headers: Record<string, string>; body: string };
    try {
      if (d.kind === 'webhook') {
        const { url, secrets } = await resolveEndpoint(d.endpoint, d.buildId, resolveDeps, subscription);
        request = signed(d, url, secrets);
      } else request = statusRequest(d, config);
    } catch (err) {
      place.cancel();
      if (verdict.probe) circuits.abandon(d.endpointId);
      if (err instanceof CannotSendError || err instanceof MissingTokenError) return giveUp(err.message);
      if (err instanceof SecretBoxError || err instanceof ConfigError) {
        // This process cannot open the secret (another key): another worker may; retry.
        await record({ error: err.message }, last ? 'failed' : 'retrying');
        log.error({ msg_id: d.msgId, err: err.message }, 'cannot sign a delivery');
        throw err;
      }
      throw err;
    }
    let res;
    try {
      res = await postJson(request.url, request.headers, request.body, {
        guard,
        timeoutMs: config.notifyTimeoutMs,
      });
    } catch (err) {
      if (err instanceof RefusedAddressError) return giveUp(err.message);
      if (counted) circuits.outcome(d.endpointId, false);
      await record({ error: (err as Error).message }, last ? 'failed' : 'retrying');
      log.warn(
        { msg_id: d.msgId, build_id: d.buildId, attempt, err: (err as Error).message },
        'delivery failed',
      );
      if (tracked) await failedAttempt(subscription!);
      throw err;
    } finally {
      place.leave();
    }
    const entry = { status: res.status, duration_ms: res.durationMs, body: res.body };
    const ok = res.status >= 200 && res.status < 300;
    if (counted) circuits.outcome(d.endpointId, ok);
    if (ok) {
      await record(entry, 'delivered');
      if (tracked) await endpoints.recordSuccess(subscription!.id);
      log.debug({ msg_id: d.msgId, build_id: d.buildId, attempt, status: res.status }, 'delivered');
      return;
    }
    if (d.kind === 'webhook' && res.status === 410 && !d.test) {
      if (subscription) await disable(subscription, `the receiver answered 410 Gone to ${d.msgId}`);
      else {
        await deliveryLog.disable(d.endpointId, `410 Gone answering ${d.msgId}`);
        // A pipeline's endpoint: the operator hears of it too (a global one cannot be told about itself).
        if (d.endpoint.kind === 'pipeline')
          await emitter
            .emitOperator('endpoint.disabled', `${d.endpointId}_${Date.now()}`, {
              endpoint: { id: d.endpointId, url: d.target, description: `notify of pipeline ${d.pipeline}` },
              reason: `the receiver answered 410 Gone to ${d.msgId}`,
              failing_since: null,
              disabled_at: new Date().toISOString(),
            })
            .catch((err: Error) => log.warn({ err: err.message }, 'could not queue endpoint.disabled'));
      }
      await record({ ...entry, error: 'receiver answered 410 Gone; endpoint disabled' }, 'failed');
      throw new UnrecoverableError('receiver answered 410 Gone; endpoint disabled');
    }
    // A forge API that refuses the request (bad token, unknown repository) will refuse it again.
    if (
      d.kind === 'status' &&
      res.status >= 400 &&
      res.status < 500 &&
      res.status !== 408 &&
      res.status !== 429
    ) {
      await record(
        { ...entry, error: `${d.forge} answered ${res.status}; check the token and the repository` },
        'failed',
      );
      throw new UnrecoverableError(`${d.forge} answered ${res.status}`);
    }
    await record({ ...entry, error: `receiver answered ${res.status}` }, last ? 'failed' : 'retrying');
    log.warn(
      { msg_id: d.msgId, build_id: d.buildId, attempt, status: res.status },
      'delivery answered with an error',
    );
    if (tracked) await failedAttempt(subscription!);
    const wait =
      res.status === 429 || res.status === 503
        ? retryAfterMs(res.headers['retry-after'] as string | undefined)
        : null;
    if (wait !== null) throw new RetryAfterError(`receiver answered ${res.status} with Retry-After`, wait);
    throw new Error(`receiver answered ${res.status}`);
  };

  /** One more failed attempt at a registered endpoint: disabled once it has failed for long enough. */
  const failedAttempt = async (e: StoredEndpoint) => {
    const since = await endpoints.recordFailure(e.id);
    if (since === null) return;
    const failing = endpoints.now() - since;
    if (failing >= config.endpointDisableAfterMs) {
      await disable(
        { ...e, failingSince: since },
        `every delivery failed for ${Math.round(failing / 3_600_000)} h (PUSHCI_ENDPOINT_DISABLE_AFTER)`,
      );
    }
  };

  const worker = new Worker<SealedDelivery>(
    DELIVERIES_QUEUE,
    deliver,
    {
      connection,
      prefix: config.queuePrefix,
      concurrency,
      // A message whose worker died mid-attempt is sent again (same webhook-id) without using up an
      // attempt; BullMQ's default (fail it at the second stall) dropped messages when workers were killed
      // repeatedly. The bound only stops a message that kills every worker that takes it.
      maxStalledCount: MAX_STALLS,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          err instanceof RetryAfterError
            ? err.delayMs
            : scheduledDelay(config.notifyRetrySchedule, attemptsMade),
      },
    },
    // The messages that end in one turn (their attempt log is written in one call too) finish together.
    batchedFinish(connection),
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'delivery worker error'));
  return worker;
}
