import type { Queue } from 'bullmq';
import type { Context } from 'koa';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.ts';
import type { DeliveryLog } from '../notify/delivery-log.ts';

export interface DeliveriesDeps {
  deliveryLog: DeliveryLog;
  deliveries: Queue;
}

export const MSG_ID = /^(?:msg|st)_[0-9a-z_.-]{1,200}$/i;

/** One delivery as the API shows it, optionally with every attempt; null when its record is gone. */
export async function deliverySummary(
  deps: Pick<DeliveriesDeps, 'deliveryLog'>,
  id: string,
  withAttempts: boolean,
) {
  const h = await deps.deliveryLog.get(id);
  if (!h) return null;
  const out: Record<string, unknown> = {
    id: h.id,
    type: h.type,
    kind: h.kind,
    build_id: h.build_id,
    // Deliveries recorded before the number was kept have none: the page shows part of the id.
    build_number: h.build_number ? Number(h.build_number) : null,
    pipeline: h.pipeline,
    endpoint_id: h.endpoint_id,
    target: h.target,
    state: h.state,
    attempts: Number(h.attempts),
    last_attempt_at: h.last_at,
  };
  if (withAttempts) out.attempt_log = await deps.deliveryLog.attempts(id);
  return out;
}

/** `GET /api/deliveries?build=<id>`: the build's deliveries, oldest first. */
export function listDeliveries(deps: DeliveriesDeps) {
  return async (ctx: Context) => {
    const build = ctx.query.build;
    const recent = Number(ctx.query.recent);
    let ids: string[];
    if (Number.isInteger(recent) && recent > 0) ids = await deps.deliveryLog.recent(Math.min(recent, 200));
    else if (typeof build === 'string' && /^[0-9a-z]{1,64}$/.test(build))
      ids = await deps.deliveryLog.forBuild(build);
    else throw new InvalidRequestError('give ?build=<build id> or ?recent=<count>');
    ctx.body = {
      deliveries: (await Promise.all(ids.map((id) => deliverySummary(deps, id, true)))).filter(Boolean),
    };
  };
}

/** `GET /api/deliveries/:id`: one delivery with every attempt (status, duration, error, first 4 KiB of the answer). */
export function getDelivery(deps: DeliveriesDeps) {
  return async (ctx: Context) => {
    const id = ctx.params.id!;
    const s = MSG_ID.test(id) ? await deliverySummary(deps, id, true) : null;
    if (!s) throw new NotFoundError(`no delivery ${id}`);
    ctx.body = s;
  };
}

/** `POST /api/deliveries/:id/redeliver`: send the same message again (same `webhook-id`, fresh signature). */
export function redeliver(deps: DeliveriesDeps) {
  return async (ctx: Context) => {
    const id = ctx.params.id!;
    const job = MSG_ID.test(id) ? await deps.deliveries.getJob(id) : undefined;
    if (!job)
      throw new NotFoundError(`no delivery ${id} is retained any more (completed ones are kept 7 days)`);
    const state = await job.getState();
    if (state !== 'completed' && state !== 'failed')
      throw new ConflictError(`delivery ${id} is still ${state}`);
    await job.retry(state);
    ctx.status = 202;
    ctx.body = { id, redelivering: true };
  };
}
