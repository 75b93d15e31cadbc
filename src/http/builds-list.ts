import { EVENT_KINDS } from '../core/event.ts';
import { BUILD_STATUSES } from '../model.ts';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { findPipeline } from '../builds/find-pipeline.ts';
import { pipelineFilter } from '../builds/pipeline-filter.ts';
import { InvalidRequestError } from '../errors.ts';
import type { PipelineSet } from '../pipelines/pipeline-set.ts';
import { toView } from '../queue/build-view.ts';
import { pipelineView, withText } from './pipeline-view.ts';
import type { BuildStore } from '../queue/store.ts';
import type { Redis } from 'ioredis';
import { lastTicks } from '../builds/schedule-ticks.ts';
import { schedulerId } from '../builds/schedules.ts';

export interface ListDeps {
  store: BuildStore;
  redis: Redis;
  publicUrl: string;
  pipelines: () => PipelineSet;
  /** Live build events of the whole cluster (fed by one Redis subscription per process). */
  liveEvents: EventEmitter;
}

const STATUSES: ReadonlySet<string> = new Set(BUILD_STATUSES);
const EVENTS: ReadonlySet<string> = new Set(EVENT_KINDS);

/** `GET /api/builds?pipeline=&repository=&branch=&event=&status=&limit=&cursor=`: newest first, with `next` for the following page. */
export function listBuilds(deps: ListDeps) {
  return async (ctx: Context) => {
    const q = ctx.query;
    const str = (k: string) => (typeof q[k] === 'string' && q[k] !== '' ? (q[k] as string) : undefined);
    const limit = Math.min(200, Math.max(1, Number(str('limit') ?? 50) || 50));
    const status = str('status');
    if (status && !STATUSES.has(status))
      throw new InvalidRequestError(`status is one of ${[...STATUSES].join(', ')}`);
    const event = str('event');
    if (event && !EVENTS.has(event))
      throw new InvalidRequestError(`event is one of ${[...EVENTS].join(', ')}`);
    const cursor = str('cursor');
    if (cursor && !/^\(?[\d.]+:[0-9a-z]+$/.test(cursor))
      throw new InvalidRequestError('bad cursor; use the "next" of the previous page');
    const pipeline = str('pipeline');
    const filter = {
      ...(pipeline ? { pipeline: pipelineFilter(deps.pipelines().pipelines, pipeline) } : {}),
      ...(str('repository') ? { repository: str('repository')! } : {}),
      ...(str('branch') ? { branch: str('branch')! } : {}),
      ...(status ? { status } : {}),
      ...(event ? { event } : {}),
    };
    const page = await deps.store.list(filter, cursor ?? null, limit);
    ctx.body = { builds: page.records.map((r) => toView(r, deps.publicUrl)), next: page.next };
  };
}

/**
 * `GET /api/pipelines`: the pipelines in force (a broken file's at its last good version, `state:
 * "last-good"`, with the file's problems), every file of the folder with its state, and all problems.
 */
export function listPipelines(deps: ListDeps) {
  return async (ctx: Context) => {
    const set = deps.pipelines();
    ctx.body = {
      loaded_at: set.loadedAt,
      pipelines: set.pipelines.map((p) => pipelineView(set, p)),
      files: set.files.map((f) => ({
        name: f.name,
        file: f.file,
        state: f.state,
        pipeline: f.pipeline,
        since: f.since,
        problems: withText(f.diagnostics),
      })),
      problems: withText(set.diagnostics),
    };
  };
}

/**
 * `GET /api/pipelines/:name`: one pipeline in force, by its id or its file (findPipeline), as listed,
 * each schedule with what its latest tick did (`last_tick`: the build it started, or why none).
 */
export function getPipeline(deps: ListDeps) {
  return async (ctx: Context) => {
    const set = deps.pipelines();
    const p = findPipeline(set.pipelines, String(ctx.params.name ?? ''));
    const view = pipelineView(set, p);
    const ticks = await lastTicks(
      deps.redis,
      deps.store.keys,
      view.schedules.map((_, i) => schedulerId(p.name, i)),
    );
    ctx.body = { ...view, schedules: view.schedules.map((s, i) => ({ ...s, last_tick: ticks[i] ?? null })) };
  };
}

/** `GET /api/events`: Server-Sent Events of every build change, for dashboards. */
export function buildEvents(deps: ListDeps) {
  return async (ctx: Context) => {
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setKeepAlive(true);
    ctx.set({
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const out = new PassThrough();
    ctx.status = 200;
    ctx.body = out;
    out.write(': connected\n\n');
    const send = (text: string) => out.write(`event: build\ndata: ${text}\n\n`);
    const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), 15_000);
    deps.liveEvents.on('event', send);
    ctx.req.on('close', () => {
      clearInterval(heartbeat);
      deps.liveEvents.off('event', send);
      out.end();
    });
  };
}
