import { randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from '../log.ts';
import { openApiDocument } from './openapi.ts';
import type { ActionDeps } from './actions.ts';
import type { ApiDeps } from './api.ts';
import { API_ROUTES } from './api-routes.ts';
import { mountRoutes } from './route.ts';
import { SITE_ROUTES } from './site-routes.ts';
import type { DeliveriesDeps } from './deliveries.ts';
import { endpointHandlers, type EndpointsDeps } from './endpoints.ts';
import { apiAuth, login } from './auth.ts';
import { sameOriginWrites } from './same-origin-writes.ts';
import { errorMiddleware } from './error-middleware.ts';
import { webhookReceiver, type WebhookDeps } from './webhooks.ts';
import { webhookRoute } from './webhook-route.ts';
import { createIntakeBudget } from './intake-budget.ts';
import { createRateLimiter } from './rate-limit.ts';
import { clientAddress } from './client-address.ts';
import { bullBoard } from './admin.ts';
import type { ListDeps } from './builds-list.ts';
import { createMetrics, type MetricsDeps } from './metrics.ts';
import { WebhookLog } from '../queue/webhook-log.ts';
import { createFileStores } from '../artifacts/file-stores.ts';
import { jobApiRouter } from './job-api.ts';
import { VERSION } from '../version.ts';

/** Wrong tokens one client address may send to `/login` a minute. */
const LOGIN_FAILURES_PER_MINUTE = 10;

export interface AppDeps
  extends
    Omit<WebhookDeps, 'intake'>,
    ApiDeps,
    ActionDeps,
    DeliveriesDeps,
    ListDeps,
    MetricsDeps,
    EndpointsDeps {
  /** The API token: PUSHCI_API_TOKEN, or the one generated into the data dir. */
  apiToken: string;
  log: Logger;
}

/**
 * The HTTP application, without listening: the webhook route on node:http (the hot path), everything
 * else on Koa.
 */
export function createApp(deps: AppDeps): RequestListener {
  const app = new Koa();
  app.proxy = false;
  // A client that goes away mid-stream (a closed dashboard, a stopped log follow) is not an error.
  app.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_STREAM_PREMATURE_CLOSE' || err.code === 'ECONNRESET' || err.code === 'EPIPE')
      return;
    deps.log.warn({ err: err.message }, 'http error');
  });
  app.use(async (ctx, next) => {
    const id = randomUUID();
    // Created on first use: most requests log nothing, and a child logger per request is not free.
    let log: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', { get: () => (log ??= deps.log.child({ req_id: id })) });
    ctx.set('X-Request-Id', id);
    await next();
  });
  app.use(errorMiddleware);

  const router = new Router();
  const metrics = createMetrics(deps);
  const addressOf = clientAddress(deps.config.trustProxy);
  const loginRoute = login({
    token: deps.apiToken,
    failures: createRateLimiter(LOGIN_FAILURES_PER_MINUTE, 'wrong login tokens'),
    clientAddress: addressOf,
  });
  const openapi = openApiDocument(deps.publicUrl, VERSION);
  mountRoutes(router, SITE_ROUTES, { deps, metrics, login: loginRoute, openapi });
  const sameOrigin = sameOriginWrites(deps.publicUrl);

  const files = createFileStores(deps.redis, deps.config);
  const artifactDeps = { ...deps, artifacts: files.artifacts };
  // Running jobs' caches and artifacts, with the job's own credential (never the API token).
  const jobApi = jobApiRouter({ ...files, store: deps.store });

  const api = new Router({ prefix: '/api' });
  api.use(apiAuth(deps.apiToken), sameOrigin);
  const webhookLog = new WebhookLog(deps.redis, deps.keys, {
    max: deps.config.webhookLogMax,
    ttlMs: deps.config.retentionMs,
  });
  const handlerDeps = { deps, webhookLog, endpoints: endpointHandlers(deps), artifacts: artifactDeps };
  mountRoutes(api, API_ROUTES, handlerDeps);

  // Bull Board, behind the same auth as the API.
  const admin = bullBoard([deps.jobs, deps.deliveries], { write: deps.config.adminWrite });
  const adminAuth = apiAuth(deps.apiToken);
  app.use(async (ctx, next) =>
    ctx.path === '/admin/queues' || ctx.path.startsWith('/admin/queues/')
      ? adminAuth(ctx, () => sameOrigin(ctx, () => admin(ctx, next)))
      : next(),
  );
  app.use(router.routes()).use(router.allowedMethods());
  app.use(api.routes()).use(api.allowedMethods());
  app.use(jobApi.routes()).use(jobApi.allowedMethods());
  return webhookRoute(
    {
      receive: webhookReceiver({ ...deps, intake: createIntakeBudget(deps.config.maxIntakeBytes) }),
      forgeNames: new Set(deps.forges.keys()),
      answered: metrics.webhookAnswered,
      record: (r) => webhookLog.add(r),
      failures: createRateLimiter(
        deps.config.rateLimit,
        'failed webhook authentications (PUSHCI_RATE_LIMIT)',
      ),
      clientAddress: addressOf,
      log: deps.log,
    },
    app.callback(),
  );
}
