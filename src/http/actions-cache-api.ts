import type { Context } from 'koa';
import type { Router } from '@koa/router';
import type { CacheStore } from '../artifacts/cache-store.ts';
import type { JobGrant } from '../artifacts/job-credentials.ts';
import { ConflictError, InvalidRequestError } from '../errors.ts';
import { readJsonBody } from './json-body.ts';

/** The header a job's gateway sets: the base URL the job's steps reach it at. */
export const JOB_BASE_HEADER = 'x-pushci-job-base';

const grantOf = (ctx: Context) => ctx.state.grant as JobGrant;

/** Where the step fetches an entry from: through its own gateway (a loopback URL), never the server's. */
export function jobBaseOf(ctx: Context): string {
  const given = ctx.get(JOB_BASE_HEADER);
  if (!/^http:\/\/(127\.0\.0\.1|localhost):\d{1,5}\/$/.test(given))
    throw new InvalidRequestError(
      `the job gateway's ${JOB_BASE_HEADER} header is missing or not a loopback URL`,
    );
  return given;
}

/**
 * The cache protocol `@actions/cache` speaks (service v1, `ACTIONS_CACHE_URL` + `_apis/artifactcache`,
 * as act and Gitea's runner serve it), mounted on the job router so it takes the same per-job
 * credential and the same scopes as the native `cache:` key. The step reaches it through its job's
 * gateway, which adds the credential; the step itself never holds one.
 */
export function mountActionsCache(r: Router, caches: CacheStore): void {
  const base = '/_apis/artifactcache';
  r.get(`${base}/cache`, async (ctx) => {
    // @actions/cache encodes the comma-joined list once more than the query string needs.
    let raw = String(ctx.query.keys ?? '');
    if (/%2c/i.test(raw)) raw = decodeURIComponent(raw);
    const keys = raw.split(',').filter(Boolean);
    const version = String(ctx.query.version ?? '');
    const hit = await caches.lookup(grantOf(ctx), keys, version);
    if (!hit) {
      ctx.status = 204;
      return;
    }
    ctx.body = {
      result: 'hit',
      archiveLocation: `${jobBaseOf(ctx)}_apis/artifactcache/artifacts/${hit.id}`,
      cacheKey: hit.key,
      cacheVersion: hit.version,
      scope: hit.ref,
      creationTime: hit.created_at,
    };
  });
  // Only used by the client for debug output on a miss.
  r.get(`${base}/caches`, (ctx) => {
    ctx.body = { totalCount: 0, artifactCaches: [] };
  });
  r.post(`${base}/caches`, async (ctx) => {
    const body = await readJsonBody(ctx, 8192);
    if (typeof body.key !== 'string' || typeof body.version !== 'string')
      throw new InvalidRequestError('send {"key", "version"}');
    try {
      ctx.body = { cacheId: await caches.reserve(grantOf(ctx), body.key, body.version) };
    } catch (err) {
      // The client reads "no cacheId" as "another job may be creating this cache" and saves nothing.
      if (err instanceof ConflictError) {
        ctx.status = 409;
        ctx.body = { error: 'conflict', message: err.message };
        return;
      }
      throw err;
    }
  });
  r.patch(`${base}/caches/:id`, async (ctx) => {
    const m = /^bytes (\d+)-(\d+)\/(?:\d+|\*)$/.exec(ctx.get('content-range'));
    if (!m) throw new InvalidRequestError('send Content-Range: bytes <start>-<end>/*');
    await caches.write(grantOf(ctx), ctx.params.id!, ctx.req, Number(m[1]));
    ctx.status = 204;
  });
  r.post(`${base}/caches/:id`, async (ctx) => {
    const body = await readJsonBody(ctx, 4096);
    const size = typeof body.size === 'number' && Number.isSafeInteger(body.size) ? body.size : undefined;
    await caches.commit(grantOf(ctx), ctx.params.id!, size);
    ctx.status = 204;
  });
  r.get(`${base}/artifacts/:id`, async (ctx) => {
    const { stream, size } = await caches.open(grantOf(ctx), ctx.params.id!);
    ctx.type = 'application/octet-stream';
    ctx.length = size;
    ctx.body = stream;
  });
}
