import type { Context } from 'koa';
import { ConflictError, InvalidRequestError } from '../errors.ts';
import { grantOf, type JobRoute } from './job-surface.ts';
import { readJsonBody } from './json-body.ts';
import { anyObject, error, gzip, json, object } from './openapi/parts.ts';

/** The header a job's gateway sets: the base URL the job's steps reach it at. */
export const JOB_BASE_HEADER = 'x-pushci-job-base';

/** Where the step fetches an entry from: through its own gateway (a loopback URL), never the server's. */
export function jobBaseOf(ctx: Context): string {
  const given = ctx.get(JOB_BASE_HEADER);
  if (!/^http:\/\/(127\.0\.0\.1|localhost):\d{1,5}\/$/.test(given))
    throw new InvalidRequestError(
      `the job gateway's ${JOB_BASE_HEADER} header is missing or not a loopback URL`,
    );
  return given;
}

/** `GET …/:id`: the bytes of a cache entry the job may read (both protocols serve it alike). */
export const sendCacheEntry: JobRoute['handler'] =
  ({ caches }) =>
  async (ctx) => {
    const { stream, size } = await caches.open(grantOf(ctx), ctx.params.id!);
    ctx.type = 'application/octet-stream';
    ctx.length = size;
    ctx.body = stream;
  };

const BASE = '/_apis/artifactcache';
const str = { type: 'string' };

/**
 * The cache protocol `@actions/cache` speaks (service v1, `ACTIONS_CACHE_URL` + `_apis/artifactcache`,
 * as act and Gitea's runner serve it), on the job router so it takes the same per-job credential and
 * the same scopes as the native `cache:` key. The step reaches it through its job's gateway, which adds
 * the credential; the step itself never holds one.
 */
export const ACTIONS_CACHE_ROUTES: readonly JobRoute[] = [
  {
    method: 'get',
    path: `${BASE}/cache`,
    handler:
      ({ caches }) =>
      async (ctx) => {
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
      },
    doc: {
      summary: 'actions/cache v1: find an entry (keys, version); the step reaches it through its job gateway',
      responses: {
        '200': json(object({ result: str, archiveLocation: str, cacheKey: str, scope: str }), 'Hit'),
        '204': { description: 'Miss' },
      },
    },
  },
  {
    method: 'get',
    path: `${BASE}/caches`,
    // Only used by the client for debug output on a miss.
    handler: () => (ctx) => {
      ctx.body = { totalCount: 0, artifactCaches: [] };
    },
    doc: {
      summary: 'actions/cache v1: the list the client prints on a miss (always empty)',
      responses: { '200': anyObject('{"totalCount": 0, "artifactCaches": []}') },
    },
  },
  {
    method: 'post',
    path: `${BASE}/caches`,
    handler:
      ({ caches }) =>
      async (ctx) => {
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
      },
    doc: {
      summary: 'actions/cache v1: reserve {key, version}',
      responses: { '200': json(object({ cacheId: str }), 'Reserved'), '409': error('Exists') },
    },
  },
  {
    method: 'patch',
    path: `${BASE}/caches/:id`,
    handler:
      ({ caches }) =>
      async (ctx) => {
        const m = /^bytes (\d+)-(\d+)\/(?:\d+|\*)$/.exec(ctx.get('content-range'));
        if (!m) throw new InvalidRequestError('send Content-Range: bytes <start>-<end>/*');
        await caches.write(grantOf(ctx), ctx.params.id!, ctx.req, Number(m[1]));
        ctx.status = 204;
      },
    doc: {
      summary: 'actions/cache v1: upload a chunk (Content-Range)',
      responses: { '204': { description: 'Written' } },
    },
  },
  {
    method: 'post',
    path: `${BASE}/caches/:id`,
    handler:
      ({ caches }) =>
      async (ctx) => {
        const body = await readJsonBody(ctx, 4096);
        const size = typeof body.size === 'number' && Number.isSafeInteger(body.size) ? body.size : undefined;
        await caches.commit(grantOf(ctx), ctx.params.id!, size);
        ctx.status = 204;
      },
    doc: { summary: 'actions/cache v1: commit {size}', responses: { '204': { description: 'Saved' } } },
  },
  {
    method: 'get',
    path: `${BASE}/artifacts/:id`,
    handler: sendCacheEntry,
    doc: {
      summary: 'actions/cache v1: download an entry',
      responses: { '200': gzip('Bytes'), '404': error('Not readable by this job') },
    },
  },
];
