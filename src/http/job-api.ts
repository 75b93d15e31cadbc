import type { Context, Next } from 'koa';
import { Router } from '@koa/router';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { CacheStore } from '../artifacts/cache-store.ts';
import type { JobCredentials, JobGrant } from '../artifacts/job-credentials.ts';
import { InvalidRequestError, UnauthorizedError } from '../errors.ts';
import type { BuildStore } from '../queue/store.ts';
import { bearerToken } from './auth.ts';
import { readJsonBody } from './json-body.ts';
import { mountActionsCache } from './actions-cache-api.ts';
import { mountActionsArtifacts, type ActionsArtifactDeps } from './actions-artifact-api.ts';

export interface JobApiDeps extends ActionsArtifactDeps {
  credentials: JobCredentials;
  store: BuildStore;
  caches: CacheStore;
  artifacts: ArtifactStore;
}

const grantOf = (ctx: Context) => ctx.state.grant as JobGrant;

/**
 * Only a live job credential opens `/job`: minted by the worker when the job started, honoured while
 * that attempt runs. The API token does not work here, and a job credential does not work on `/api`.
 */
export function jobAuth(deps: Pick<JobApiDeps, 'credentials' | 'store'>) {
  return async (ctx: Context, next: Next) => {
    const token = bearerToken(ctx);
    const grant = token ? await deps.credentials.resolve(token, deps.store) : null;
    if (!grant) {
      ctx.set('WWW-Authenticate', 'Bearer realm="pushci-job"');
      throw new UnauthorizedError('send the job’s credential (it is valid only while its job runs)');
    }
    ctx.state.grant = grant;
    await next();
  };
}

function query(ctx: Context, name: string): string {
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

/** `/job/…`: what a running job may read and write: its repository's caches, its build's artifacts. */
export function jobApiRouter(deps: JobApiDeps): Router {
  const r = new Router({ prefix: '/job' });
  r.use(jobAuth(deps));
  mountActionsCache(r, deps.caches);
  mountActionsArtifacts(r, deps);
  r.get('/caches', async (ctx) => {
    const keys = query(ctx, 'keys').split(',');
    const hit = await deps.caches.lookup(grantOf(ctx), keys, query(ctx, 'version'));
    if (!hit) {
      ctx.status = 204;
      return;
    }
    ctx.body = hit;
  });
  r.get('/caches/:id', async (ctx) => {
    const { stream, size } = await deps.caches.open(grantOf(ctx), ctx.params.id!);
    ctx.type = 'application/octet-stream';
    ctx.length = size;
    ctx.body = stream;
  });
  r.post('/caches', async (ctx) => {
    const body = await readJsonBody(ctx, 4096);
    if (typeof body.key !== 'string' || typeof body.version !== 'string')
      throw new InvalidRequestError('send {"key": "...", "version": "..."}');
    ctx.status = 201;
    ctx.body = { id: await deps.caches.reserve(grantOf(ctx), body.key, body.version) };
  });
  const write = async (ctx: Context) => {
    const start = rangeStart(ctx.get('content-range'));
    const written = await deps.caches.write(grantOf(ctx), ctx.params.id!, ctx.req, start);
    ctx.body = { written };
  };
  r.patch('/caches/:id', write);
  r.put('/caches/:id', write);
  r.delete('/caches/:id', async (ctx) => {
    await deps.caches.abandon(grantOf(ctx), ctx.params.id!);
    ctx.status = 204;
  });
  r.post('/caches/:id/commit', async (ctx) => {
    const body = await readJsonBody(ctx, 4096);
    const size = body.size;
    if (size !== undefined && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0))
      throw new InvalidRequestError('size must be a whole number of bytes');
    ctx.status = 201;
    ctx.body = await deps.caches.commit(grantOf(ctx), ctx.params.id!, size);
  });
  r.get('/artifacts', async (ctx) => {
    ctx.body = { artifacts: await deps.artifacts.list(grantOf(ctx).buildId) };
  });
  r.patch('/artifacts/:name', async (ctx) => {
    const g = grantOf(ctx);
    const written = await deps.artifacts.writeChunk(
      g.buildId,
      g.job,
      ctx.params.name!,
      ctx.req,
      rangeStart(ctx.get('content-range')),
    );
    ctx.body = { written };
  });
  r.post('/artifacts/:name/commit', async (ctx) => {
    const g = grantOf(ctx);
    const body = await readJsonBody(ctx, 4096);
    const size = body.size;
    if (size !== undefined && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0))
      throw new InvalidRequestError('size must be a whole number of bytes');
    ctx.status = 201;
    ctx.body = await deps.artifacts.commit(g.buildId, g.job, ctx.params.name!, size);
  });
  r.get('/artifacts/:name', async (ctx) => {
    const { info, stream } = await deps.artifacts.open(grantOf(ctx).buildId, ctx.params.name!);
    ctx.type = 'application/gzip';
    ctx.length = info.size;
    ctx.body = stream;
  });
  return r;
}
