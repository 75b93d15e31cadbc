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
import { decodeLine } from '../runner/job-log.ts';

export interface ApiDeps {
  store: BuildStore;
  redis: Redis;
  keys: Keys;
  publicUrl: string;
  config: Readonly<Config>;
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

/** How often a followed log looks for new lines (the worker stores them every 100 ms). */
const FOLLOW_POLL_MS = 100;
/**
 * Lines a follower reads at once; a full batch is followed by the next read at once. A follower behind a
 * fast step catches up in few round trips (each one, under load, waits for the CPU as well as for Redis).
 */
const FOLLOW_BATCH = 20_000;

/** The last timestamp formatted: a fast step's lines share their millisecond by the hundred. */
let lastTime = NaN;
let lastIso = '';

function formatLine(raw: string): string {
  const l = decodeLine(raw);
  if (l.t !== lastTime) {
    lastTime = l.t;
    lastIso = new Date(l.t).toISOString();
  }
  return `${lastIso} ${l.s === 'err' ? '!' : l.s === 'sys' ? '#' : ' '} ${l.m}\n`;
}

/**
 * `GET /api/builds/:id/jobs/:job/log`: the job's log as text, one timestamped line each (`!` marks
 * stderr, `#` pushci's own lines). `?follow=1` keeps the response open and streams new lines until the
 * job has finished.
 */
export function getJobLog(deps: ApiDeps) {
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
      ctx.body = (await deps.redis.lrange(key, 0, -1)).map(formatLine).join('');
      return;
    }
    const out = new PassThrough();
    ctx.body = out;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Accel-Buffering', 'no');
    let closed = false;
    ctx.req.on('close', () => (closed = true));
    void (async () => {
      let offset = 0;
      try {
        while (!closed) {
          const lines = await deps.redis.lrange(key, offset, offset + FOLLOW_BATCH - 1);
          offset += lines.length;
          if (lines.length > 0) out.write(lines.map(formatLine).join(''));
          if (lines.length === FOLLOW_BATCH) continue;
          const state = (await deps.store.get(record.meta.id))?.jobs.get(job)?.status;
          if (!state || isFinal(state)) {
            // The worker flushes its last lines before it records the result: one more read gets them.
            const rest = await deps.redis.lrange(key, offset, -1);
            if (rest.length > 0) out.write(rest.map(formatLine).join(''));
            break;
          }
          // A new line reaches a follower at most this much after the worker stored it.
          await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
        }
      } finally {
        out.end();
      }
    })();
  };
}
