import type { Context } from 'koa';
import { InvalidRequestError } from '../errors.ts';
import { ACTIONS_ARTIFACT_ROUTES } from './actions-artifact-api.ts';
import { ACTIONS_CACHE_ROUTES, sendCacheEntry } from './actions-cache-api.ts';
import { grantOf, type JobRoute } from './job-surface.ts';
import { readJsonBody } from './json-body.ts';
import { anyObject, error, errors, gzip, json, object, query, ref } from './openapi/parts.ts';

function required(ctx: Context, name: string): string {
  const v = ctx.query[name];
  if (typeof v !== 'string' || v === '') throw new InvalidRequestError(`?${name}= is required`);
  return v;
}

/** `bytes a-b/*` or `bytes a-b/n`: the chunk's first byte. */
function rangeStart(header: string): number {
  if (!header) return 0;
  const m = /^bytes (\d+)-(\d+)\/(?:\d+|\*)$/.exec(header);
  if (!m || Number(m[2]) < Number(m[1])) throw new InvalidRequestError(`bad Content-Range "${header}"`);
  return Number(m[1]);
}

/** `{"size": n}`, optional: the bytes the uploader sent in all. */
async function sizeOf(ctx: Context): Promise<number | undefined> {
  const size = (await readJsonBody(ctx, 4096)).size;
  if (size !== undefined && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0))
    throw new InvalidRequestError('size must be a whole number of bytes');
  return size;
}

const str = { type: 'string' };
const written = json(object({ written: { type: 'integer' } }), 'Written');
const tooLarge = (setting: string) => ({ '413': error(`Past ${setting}`) });
const taken = { '409': error('Another job of the build uploaded that name') };

/** A cache entry's bytes, whole (PUT) or from the Content-Range's first byte (PATCH). */
const writeCache: JobRoute['handler'] = (deps) => async (ctx) => {
  const start = rangeStart(ctx.get('content-range'));
  ctx.body = { written: await deps.caches.write(grantOf(ctx), ctx.params.id!, ctx.req, start) };
};

/** The native cache and artifact routes the worker uses for `cache:` and `artifacts:`. */
const NATIVE_ROUTES: readonly JobRoute[] = [
  {
    method: 'get',
    path: '/caches',
    handler: (deps) => async (ctx) => {
      const keys = required(ctx, 'keys').split(',');
      const hit = await deps.caches.lookup(grantOf(ctx), keys, required(ctx, 'version'));
      if (!hit) {
        ctx.status = 204;
        return;
      }
      ctx.body = hit;
    },
    doc: {
      summary: 'Find the cache to restore: the first key exactly, else the newest entry a later key prefixes',
      parameters: [
        { ...query('keys', str, true), description: 'Comma-separated.' },
        query('version', str, true),
      ],
      responses: { '200': json(ref('CacheEntry'), 'Hit'), '204': { description: 'Miss' } },
    },
  },
  {
    method: 'get',
    path: '/caches/:id',
    handler: sendCacheEntry,
    doc: {
      summary: 'A cache entry’s bytes',
      responses: { '200': gzip('Bytes'), '404': error('Not readable by this job') },
    },
  },
  {
    method: 'post',
    path: '/caches',
    handler: (deps) => async (ctx) => {
      const body = await readJsonBody(ctx, 4096);
      if (typeof body.key !== 'string' || typeof body.version !== 'string')
        throw new InvalidRequestError('send {"key": "...", "version": "..."}');
      ctx.status = 201;
      ctx.body = { id: await deps.caches.reserve(grantOf(ctx), body.key, body.version) };
    },
    doc: {
      summary: 'Reserve a new cache entry in the job’s ref',
      requestBody: json(object({ key: str, version: str }, ['key', 'version']), 'Key and version'),
      responses: {
        '201': json(object({ id: str }), 'Reserved'),
        '409': error('The key exists (entries are immutable)'),
      },
    },
  },
  {
    method: 'patch',
    path: '/caches/:id',
    handler: writeCache,
    doc: {
      summary: 'Upload one chunk (Content-Range: bytes a-b/*)',
      responses: { '200': written, ...tooLarge('PUSHCI_CACHE_MAX_BYTES') },
    },
  },
  {
    method: 'put',
    path: '/caches/:id',
    handler: writeCache,
    doc: {
      summary: 'Upload a reserved entry (PATCH with Content-Range for chunks)',
      responses: { '200': written, ...tooLarge('PUSHCI_CACHE_MAX_BYTES') },
    },
  },
  {
    method: 'delete',
    path: '/caches/:id',
    handler: (deps) => async (ctx) => {
      await deps.caches.abandon(grantOf(ctx), ctx.params.id!);
      ctx.status = 204;
    },
    doc: { summary: 'Abandon a reserved entry', responses: { '204': { description: 'Gone' } } },
  },
  {
    method: 'post',
    path: '/caches/:id/commit',
    handler: (deps) => async (ctx) => {
      const size = await sizeOf(ctx);
      ctx.status = 201;
      ctx.body = await deps.caches.commit(grantOf(ctx), ctx.params.id!, size);
    },
    doc: {
      summary: 'Make a reserved entry readable (evicts least recently used entries over the cap)',
      responses: { '201': json(ref('CacheEntry'), 'Saved') },
    },
  },
  {
    method: 'get',
    path: '/artifacts',
    handler: (deps) => async (ctx) => {
      ctx.body = { artifacts: await deps.artifacts.list(grantOf(ctx).buildId) };
    },
    doc: { summary: 'The artifacts of the job’s build', responses: { '200': anyObject('Artifacts') } },
  },
  {
    method: 'patch',
    path: '/artifacts/:name',
    handler: (deps) => async (ctx) => {
      const g = grantOf(ctx);
      const start = rangeStart(ctx.get('content-range'));
      ctx.body = {
        written: await deps.artifacts.writeChunk(g.buildId, g.job, ctx.params.name!, ctx.req, start),
      };
    },
    doc: {
      summary:
        'Upload an artifact of the job’s build (.tar.gz body), in chunks (Content-Range: bytes a-b/*; the first chunk starts afresh)',
      responses: { '200': written, ...taken, ...tooLarge('PUSHCI_ARTIFACT_MAX_BYTES') },
    },
  },
  {
    method: 'post',
    path: '/artifacts/:name/commit',
    handler: (deps) => async (ctx) => {
      const g = grantOf(ctx);
      const size = await sizeOf(ctx);
      ctx.status = 201;
      ctx.body = await deps.artifacts.commit(g.buildId, g.job, ctx.params.name!, size);
    },
    doc: {
      summary: 'Store the uploaded chunks as the artifact ({"size": n}, optional, is checked)',
      responses: { '201': json(ref('Artifact'), 'Stored'), ...errors(400), ...taken },
    },
  },
  {
    method: 'get',
    path: '/artifacts/:name',
    handler: (deps) => async (ctx) => {
      const { info, stream } = await deps.artifacts.open(grantOf(ctx).buildId, ctx.params.name!);
      ctx.type = 'application/gzip';
      ctx.length = info.size;
      ctx.body = stream;
    },
    doc: {
      summary: 'Download an artifact of the job’s build',
      responses: { '200': gzip('The artifact'), '404': error('None of that name') },
    },
  },
];

/** Every route of `/job`, in the order Koa matches them: the router and the OpenAPI paths come from it. */
export const JOB_ROUTES: readonly JobRoute[] = [
  ...ACTIONS_CACHE_ROUTES,
  ...ACTIONS_ARTIFACT_ROUTES,
  ...NATIVE_ROUTES,
];
