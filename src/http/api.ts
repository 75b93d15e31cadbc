import type { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { Redis } from 'ioredis';
import { NotFoundError } from '../errors.ts';
import { isFinal } from '../model.ts';
import type { Keys } from '../queue/keys.ts';
import type { Config } from '../config.ts';
import { webBase, webLinks } from '../forges/web-links.ts';
import { toView } from '../queue/build-view.ts';
import type { BuildStore } from '../queue/store.ts';
import { withScripts } from '../queue/scripts.ts';
import { formatLog } from './format-log.ts';

export interface ApiDeps {
  store: BuildStore;
  redis: Redis;
  keys: Keys;
  publicUrl: string;
  config: Readonly<Config>;
  /** Announced appends to job logs: emits each log's key (subscribeLiveEvents). */
  logAppends: EventEmitter;
}

async function loadBuild(deps: ApiDeps, id: string) {
  const record = /^[0-9a-z]{1,64}$/.test(id) ? await deps.store.get(id) : null;
  if (!record) throw new NotFoundError(`no build ${id}`);
  return record;
}

/**
 * `GET /api/builds/:id`: the build in the shape of the outbound `data.build`, with `links` to its
 * repository, commit, branch or tag and pull request on the forge, and `canceling` while a cancelled
 * build's jobs are still stopping.
 */
export function getBuild(deps: ApiDeps) {
  return async (ctx: Context) => {
    const record = await loadBuild(deps, ctx.params.id!);
    const view = toView(record, deps.publicUrl);
    const links = webLinks(webBase(deps.config, view.forge), view.forge, {
      repository: view.repository,
      sha: view.sha,
      branch: view.branch,
      tag: view.tag,
      pullRequest: view.pull_request?.number ?? null,
    });
    // A cancel is applied at once, but running jobs end only when their processes are gone.
    const canceling = record.cancelReason !== null && (view.status === 'queued' || view.status === 'running');
    ctx.body = { ...view, links, canceling };
  };
}

/**
 * How long a follower waits for an append before it looks at the job's state (and at the log, in case an
 * announcement was missed): a job's end reaches its followers this much after its last line at most.
 */
const FOLLOW_IDLE_MS = 100;
/**
 * Lines a follower reads at once; a full batch is followed by the next read at once. A follower behind a
 * fast step catches up in few round trips (each one, under load, waits for the CPU as well as for Redis).
 */
const FOLLOW_BATCH = 20_000;

/**
 * `GET /api/builds/:id/jobs/:job/log`: the job's log as text, one timestamped line each (`!` marks
 * stderr, `#` pushci's own lines). `?follow=1` keeps the response open and streams new lines until the
 * job has finished: each append the worker announces wakes the follower, which reads what is new at once.
 */
export function getJobLog(deps: ApiDeps) {
  const redis = withScripts(deps.redis);
  return async (ctx: Context) => {
    const record = await loadBuild(deps, ctx.params.id!);
    const job = ctx.params.job!;
    if (!record.jobs.has(job)) throw new NotFoundError(`build ${record.meta.id} has no job ${job}`);
    const key = deps.keys.log(record.meta.id, job);
    ctx.type = 'text/plain; charset=utf-8';
    if (ctx.query.download === '1' || ctx.query.download === 'true')
      ctx.attachment(`${record.meta.pipeline}-${record.number}-${job}.log`, { fallback: true });
    const follow = ctx.query.follow === '1' || ctx.query.follow === 'true';
    if (!follow) {
      ctx.body = formatLog((await redis.pushciLogRange(key, '0', '-1'))[1]);
      return;
    }
    const out = new PassThrough();
    ctx.body = out;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Accel-Buffering', 'no');
    let closed = false;
    // Set by an announced append: the next wait is skipped (the append may have come after the read).
    let appended = false;
    let wake: (() => void) | null = null;
    const onAppend = () => {
      appended = true;
      wake?.();
    };
    const onClose = () => {
      closed = true;
      wake?.();
    };
    ctx.req.on('close', onClose);
    deps.logAppends.on(key, onAppend);
    void (async () => {
      let offset = 0;
      try {
        while (!closed) {
          appended = false;
          const [count, joined] = await redis.pushciLogRange(
            key,
            String(offset),
            String(offset + FOLLOW_BATCH - 1),
          );
          offset += count;
          if (count > 0) out.write(formatLog(joined));
          if (count === FOLLOW_BATCH || appended) continue;
          const idle = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(true), FOLLOW_IDLE_MS);
            wake = () => {
              clearTimeout(timer);
              resolve(false);
            };
          });
          wake = null;
          if (!idle) continue;
          const state = (await deps.store.get(record.meta.id))?.jobs.get(job)?.status;
          if (!state || isFinal(state)) {
            // The worker flushes its last lines before it records the result: one more read gets them.
            const [, rest] = await redis.pushciLogRange(key, String(offset), '-1');
            if (rest.length > 0) out.write(formatLog(rest));
            break;
          }
        }
      } finally {
        deps.logAppends.off(key, onAppend);
        ctx.req.off('close', onClose);
        out.end();
      }
    })();
  };
}
