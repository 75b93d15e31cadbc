import type { Context, Next } from 'koa';
import { Router } from '@koa/router';
import { UnauthorizedError } from '../errors.ts';
import { bearerToken } from './auth.ts';
import { JOB_ROUTES } from './job-routes.ts';
import { JOB_SURFACE, type JobApiDeps } from './job-surface.ts';
import { mountRoutes } from './route.ts';

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

/** `/job/…`: what a running job may read and write: its repository's caches, its build's artifacts. */
export function jobApiRouter(deps: JobApiDeps): Router {
  const r = new Router({ prefix: JOB_SURFACE.prefix });
  r.use(jobAuth(deps));
  mountRoutes(r, JOB_ROUTES, deps);
  return r;
}
