import type { Queue } from 'bullmq';
import type { Context } from 'koa';
import { parseDuration, type Config } from '../config.ts';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { OUTBOUND_EVENT_TYPES, type OutboundEventType } from '../model.ts';
import { checkEndpointUrl } from '../notify/check-endpoint-url.ts';
import type { DeliveryLog } from '../notify/delivery-log.ts';
import type { Emitter } from '../notify/emit.ts';
import { parseCreate, parsePatch } from '../notify/endpoint-schema.ts';
import type { EndpointStore, StoredEndpoint } from '../notify/endpoint-store.ts';
import { eventTypes } from '../notify/event-types.ts';
import { createAddressGuard } from '../notify/ssrf.ts';
import { exampleEvent } from '../notify/test-events.ts';
import type { PipelineSet } from '../pipelines/pipeline-set.ts';
import { cursorText, readCursor, type TimeCursor } from '../queue/newest-after.ts';
import { deliverySummary } from './deliveries.ts';
import { configuredViews, subscriptionView, type EndpointViewDeps } from './endpoint-views.ts';
import { readJsonBody } from './json-body.ts';

export interface EndpointsDeps {
  endpoints: EndpointStore;
  deliveryLog: DeliveryLog;
  deliveries: Queue;
  emitter: Emitter;
  pipelines: () => PipelineSet;
  config: Readonly<Config>;
  log: Logger;
}

const CONFIGURED_ID = /^[0-9a-f]{16}$/;
const STATES = new Set(['retrying', 'delivered', 'failed', 'held', 'dropped']);

async function registered(deps: EndpointsDeps, id: string): Promise<StoredEndpoint> {
  const e = await deps.endpoints.get(id);
  if (e) return e;
  if (CONFIGURED_ID.test(id) && (await configuredViews(deps)).some((v) => v.id === id))
    throw new ConflictError(
      `endpoint ${id} is declared in a pipeline file or PUSHCI_NOTIFY_URLS; change it there`,
    );
  throw new NotFoundError(`no endpoint ${id}`);
}

/** `id` of any kind: a registered endpoint or a configured one. */
async function anyView(deps: EndpointViewDeps, id: string) {
  const e = await deps.endpoints.get(id);
  if (e) return subscriptionView(deps, e);
  const v = CONFIGURED_ID.test(id) ? (await configuredViews(deps)).find((x) => x.id === id) : undefined;
  if (!v) throw new NotFoundError(`no endpoint ${id}`);
  return v;
}

/** A time given as ISO 8601 or as a duration back from now (`2h`, `7d`). */
function timeParam(text: unknown, name: string): number {
  if (typeof text !== 'string' || text === '') throw new InvalidRequestError(`give "${name}"`);
  const date = Date.parse(text);
  if (Number.isFinite(date) && /^\d{4}-/.test(text)) return date;
  try {
    return Date.now() - parseDuration(text);
  } catch {
    throw new InvalidRequestError(`${name}: "${text}" is neither an ISO 8601 time nor a duration like 2h`);
  }
}

/** The handlers of `/api/endpoints` and `/api/event-types`. */
export function endpointHandlers(deps: EndpointsDeps) {
  const guard = createAddressGuard(deps.config.notifyAllow);
  return {
    /** `POST /api/endpoints`: 201 with the endpoint and its secret (shown only here). */
    async create(ctx: Context) {
      const input = parseCreate(await readJsonBody(ctx));
      const url = await checkEndpointUrl(input.url, guard);
      const { endpoint, secret } = await deps.endpoints.create({ ...input, url });
      // The host only: a URL's path or query may itself be a credential.
      ctx.state.log?.info({ endpoint_id: endpoint.id, host: new URL(url).host }, 'endpoint registered');
      ctx.status = 201;
      ctx.set('Location', `/api/endpoints/${endpoint.id}`);
      ctx.body = { ...(await subscriptionView(deps, endpoint)), secret };
    },

    /** `GET /api/endpoints?source=api|pipeline|global`: every endpoint, registered ones first. */
    async list(ctx: Context) {
      const source = ctx.query.source;
      const mine = await Promise.all((await deps.endpoints.list()).map((e) => subscriptionView(deps, e)));
      const all = [...mine, ...(await configuredViews(deps))];
      ctx.body = { endpoints: typeof source === 'string' ? all.filter((e) => e.source === source) : all };
    },

    /** `GET /api/endpoints/:id` (never the secret). */
    async get(ctx: Context) {
      ctx.body = await anyView(deps, ctx.params.id!);
    },

    /** `PATCH /api/endpoints/:id` */
    async update(ctx: Context) {
      const id = ctx.params.id!;
      await registered(deps, id);
      const patch = parsePatch(await readJsonBody(ctx));
      if (patch.url !== undefined) patch.url = await checkEndpointUrl(patch.url, guard);
      ctx.body = await subscriptionView(deps, await deps.endpoints.update(id, patch));
    },

    /** `DELETE /api/endpoints/:id`: 204; held messages go with it, others still queued are refused and logged. */
    async remove(ctx: Context) {
      const id = ctx.params.id!;
      await registered(deps, id);
      // Messages held for it while it was paused would only be refused later: drop them now.
      for (const msgId of await deps.endpoints.takeHeld(id))
        await (await deps.deliveries.getJob(msgId))?.remove().catch(() => {});
      await deps.endpoints.remove(id);
      ctx.state.log?.info({ endpoint_id: id }, 'endpoint deleted');
      ctx.status = 204;
    },

    /** `POST /api/endpoints/:id/rotate-secret` `{"overlap": "24h", "secret": "whsec_..."}` (both optional). */
    async rotate(ctx: Context) {
      const id = ctx.params.id!;
      await registered(deps, id);
      const body = await readJsonBody(ctx);
      let overlapMs = deps.config.endpointRotationOverlapMs;
      if (body.overlap !== undefined) {
        try {
          overlapMs = parseDuration(String(body.overlap));
        } catch {
          throw new InvalidRequestError(
            `overlap: "${String(body.overlap)}" is not a duration (e.g. 24h, 30m, 0)`,
          );
        }
      }
      if (body.secret !== undefined && typeof body.secret !== 'string')
        throw new InvalidRequestError('secret: must be a whsec_ string');
      const r = await deps.endpoints.rotate(id, { overlapMs, secret: body.secret as string | undefined });
      ctx.state.log?.info({ endpoint_id: id, overlap_ms: overlapMs }, 'endpoint secret rotated');
      ctx.body = {
        id,
        secret: r.secret,
        previous_secret_valid_until: new Date(r.previousUntil).toISOString(),
      };
    },

    /** `POST /api/endpoints/:id/pause` `{"on_pause": "keep"|"drop"}` (optional: sets the endpoint's choice). */
    async pause(ctx: Context) {
      const id = ctx.params.id!;
      await registered(deps, id);
      const body = await readJsonBody(ctx);
      if (body.on_pause !== undefined) {
        if (body.on_pause !== 'keep' && body.on_pause !== 'drop')
          throw new InvalidRequestError('on_pause: "keep" or "drop"');
        await deps.endpoints.update(id, { on_pause: body.on_pause });
      }
      const e = await deps.endpoints.setState(id, 'paused', 'paused through the API');
      ctx.body = await subscriptionView(deps, e);
    },

    /**
     * `POST /api/endpoints/:id/resume` (also re-enables a disabled endpoint): the messages held while
     * it was paused are sent now, oldest first.
     */
    async resume(ctx: Context) {
      const id = ctx.params.id!;
      const before = await registered(deps, id);
      if (before.state === 'active') throw new ConflictError(`endpoint ${id} is already active`);
      const e = await deps.endpoints.setState(id, 'active', null);
      let released = 0;
      for (const msgId of await deps.endpoints.takeHeld(id)) {
        const job = await deps.deliveries.getJob(msgId);
        if (job && (await job.getState()) === 'delayed') {
          await job.promote().catch(() => {});
          released++;
        }
      }
      ctx.state.log?.info({ endpoint_id: id, released }, 'endpoint resumed');
      ctx.body = { ...(await subscriptionView(deps, e)), released };
    },

    /** `POST /api/endpoints/:id/enable`: a disabled endpoint of any kind delivers again. */
    async enable(ctx: Context) {
      const id = ctx.params.id!;
      const e = await deps.endpoints.get(id);
      if (e) {
        if (e.state !== 'disabled') throw new NotFoundError(`endpoint ${id} is not disabled`);
        await deps.endpoints.setState(id, 'active', null);
      } else if (!(await deps.deliveryLog.enable(id)))
        throw new NotFoundError(`endpoint ${id} is not disabled`);
      ctx.body = { id, enabled: true };
    },

    /** `POST /api/endpoints/:id/test` `{"type": "build.completed"}`: one example message, through the queue. */
    async test(ctx: Context) {
      const id = ctx.params.id!;
      const e = await registered(deps, id);
      const body = await readJsonBody(ctx);
      const type = (body.type ?? 'build.completed') as OutboundEventType;
      if (!OUTBOUND_EVENT_TYPES.includes(type))
        throw new InvalidRequestError(`type: one of ${OUTBOUND_EVENT_TYPES.join(', ')}`);
      const msgId = await deps.emitter.emitTest(e, type, exampleEvent(type, deps.config.publicUrl));
      ctx.status = 202;
      ctx.body = { id: msgId, type, endpoint_id: id };
    },

    /** `GET /api/endpoints/:id/deliveries?type=&state=&before=&limit=`: newest first; `next` pages back. */
    async deliveries(ctx: Context) {
      const id = ctx.params.id!;
      await anyView(deps, id);
      const q = ctx.query;
      const limit = Math.min(100, Math.max(1, Number(q.limit ?? 25) || 25));
      const type = typeof q.type === 'string' && q.type !== '' ? q.type : undefined;
      const state = typeof q.state === 'string' && q.state !== '' ? q.state : undefined;
      if (state && !STATES.has(state))
        throw new InvalidRequestError(`state: one of ${[...STATES].join(', ')}`);
      let after: TimeCursor | null = null;
      if (typeof q.before === 'string' && q.before !== '') {
        after = readCursor(q.before) ?? null;
        if (!after) throw new InvalidRequestError('bad "before"; use the "next" of the previous page');
      }
      const out: unknown[] = [];
      let next: string | null = null;
      // Filters are applied while reading back through the index, a bounded number of pages at a time.
      for (let scanned = 0; out.length < limit && scanned < 2000;) {
        const page = await deps.deliveryLog.newest(id, after, 100);
        if (page.length === 0) {
          next = null;
          break;
        }
        scanned += page.length;
        for (const { id: msgId, cursor } of page) {
          after = cursor;
          const s = await deliverySummary(deps, msgId, true);
          if (!s || (type && s.type !== type) || (state && s.state !== state)) continue;
          out.push(s);
          if (out.length === limit) break;
        }
        next = after ? cursorText(after) : null;
      }
      ctx.body = { deliveries: out, next: out.length === limit ? next : null };
    },

    /** `GET /api/endpoints/:id/stats`: counters and the last 24 hours, hour by hour. */
    async stats(ctx: Context) {
      const id = ctx.params.id!;
      const v = await anyView(deps, id);
      ctx.body = { id, stats: v.stats, hours: await deps.deliveryLog.hourly(id) };
    },

    /** `POST /api/endpoints/:id/redeliver` `{"since": "2h" | ISO time}`: every failed message since then, again. */
    async redeliverFailed(ctx: Context) {
      const id = ctx.params.id!;
      await anyView(deps, id);
      const since = timeParam((await readJsonBody(ctx)).since, 'since');
      // Collect first: a redelivery moves its message to the front of the index.
      const ids: string[] = [];
      for (let offset = 0; ;) {
        const page = await deps.deliveryLog.since(id, { since, offset, count: 500 });
        ids.push(...page.map((p) => p.id));
        offset += page.length;
        if (page.length < 500) break;
      }
      let redelivering = 0;
      let gone = 0;
      for (const msgId of ids) {
        const h = await deps.deliveryLog.get(msgId);
        if (h?.state !== 'failed' && h?.state !== 'dropped') continue;
        const job = await deps.deliveries.getJob(msgId);
        const jobState = await job?.getState();
        if (!job || (jobState !== 'failed' && jobState !== 'completed')) {
          gone++;
          continue;
        }
        await job.retry(jobState);
        redelivering++;
      }
      ctx.status = 202;
      ctx.body = { id, since: new Date(since).toISOString(), redelivering, no_longer_retained: gone };
    },

    /** `GET /api/event-types`: every message type with its JSON Schema. */
    eventTypes(ctx: Context) {
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = { event_types: eventTypes() };
    },
  };
}
