import type { Middleware } from 'koa';
import { listWorkers } from '../queue/worker-heartbeat.ts';
import type { WebhookLog } from '../queue/webhook-log.ts';
import {
  approveHandler,
  cancelHandler,
  rerunFailedHandler,
  rerunHandler,
  triggerHandler,
} from './actions.ts';
import { getBuild, getJobLog } from './api.ts';
import { downloadArtifact, listArtifacts, type ArtifactsDeps } from './artifacts.ts';
import type { AppDeps } from './app.ts';
import { buildEvents, listBuilds, listPipelines } from './builds-list.ts';
import { getDelivery, listDeliveries, redeliver } from './deliveries.ts';
import { testEndpoint } from './endpoint-test.ts';
import type { endpointHandlers } from './endpoints.ts';
import { getWebhook, listWebhooks } from './webhook-records.ts';

/** What the handlers of the API are made from. */
export interface ApiHandlerDeps {
  deps: AppDeps;
  webhookLog: WebhookLog;
  endpoints: ReturnType<typeof endpointHandlers>;
  artifacts: ArtifactsDeps;
}

/** One route of `/api`: Koa's path (`:id`), relative to `/api`; the OpenAPI document names it `{id}`. */
export interface ApiRoute {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  handler(h: ApiHandlerDeps): Middleware;
}

/**
 * Every route of `/api`, in the order Koa matches them. The router is built from this table, and
 * test/unit/http/api-routes.test.ts checks that the OpenAPI document has each with its status codes.
 */
export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'get', path: '/builds', handler: ({ deps }) => listBuilds(deps) },
  { method: 'get', path: '/pipelines', handler: ({ deps }) => listPipelines(deps) },
  { method: 'get', path: '/events', handler: ({ deps }) => buildEvents(deps) },
  { method: 'get', path: '/builds/:id', handler: ({ deps }) => getBuild(deps) },
  { method: 'get', path: '/builds/:id/jobs/:job/log', handler: ({ deps }) => getJobLog(deps) },
  { method: 'get', path: '/builds/:id/artifacts', handler: ({ artifacts }) => listArtifacts(artifacts) },
  {
    method: 'get',
    path: '/builds/:id/artifacts/:name',
    handler: ({ artifacts }) => downloadArtifact(artifacts),
  },
  { method: 'post', path: '/builds/:id/cancel', handler: ({ deps }) => cancelHandler(deps) },
  { method: 'post', path: '/builds/:id/approve', handler: ({ deps }) => approveHandler(deps) },
  { method: 'post', path: '/builds/:id/rerun', handler: ({ deps }) => rerunHandler(deps) },
  { method: 'post', path: '/builds/:id/rerun-failed', handler: ({ deps }) => rerunFailedHandler(deps) },
  { method: 'post', path: '/pipelines/:name/trigger', handler: ({ deps }) => triggerHandler(deps) },
  { method: 'get', path: '/webhooks', handler: ({ webhookLog }) => listWebhooks(webhookLog) },
  {
    method: 'get',
    path: '/workers',
    handler:
      ({ deps }) =>
      async (ctx) => {
        ctx.body = { workers: await listWorkers(deps.redis, deps.keys) };
      },
  },
  { method: 'get', path: '/webhooks/:id', handler: ({ webhookLog }) => getWebhook(webhookLog) },
  { method: 'get', path: '/deliveries', handler: ({ deps }) => listDeliveries(deps) },
  { method: 'get', path: '/deliveries/:id', handler: ({ deps }) => getDelivery(deps) },
  { method: 'post', path: '/deliveries/:id/redeliver', handler: ({ deps }) => redeliver(deps) },
  { method: 'post', path: '/endpoints/test', handler: ({ deps }) => testEndpoint(deps.config) },
  { method: 'get', path: '/event-types', handler: ({ endpoints }) => endpoints.eventTypes },
  { method: 'post', path: '/endpoints', handler: ({ endpoints }) => endpoints.create },
  { method: 'get', path: '/endpoints', handler: ({ endpoints }) => endpoints.list },
  { method: 'get', path: '/endpoints/:id', handler: ({ endpoints }) => endpoints.get },
  { method: 'patch', path: '/endpoints/:id', handler: ({ endpoints }) => endpoints.update },
  { method: 'delete', path: '/endpoints/:id', handler: ({ endpoints }) => endpoints.remove },
  { method: 'post', path: '/endpoints/:id/rotate-secret', handler: ({ endpoints }) => endpoints.rotate },
  { method: 'post', path: '/endpoints/:id/pause', handler: ({ endpoints }) => endpoints.pause },
  { method: 'post', path: '/endpoints/:id/resume', handler: ({ endpoints }) => endpoints.resume },
  { method: 'post', path: '/endpoints/:id/enable', handler: ({ endpoints }) => endpoints.enable },
  { method: 'post', path: '/endpoints/:id/test', handler: ({ endpoints }) => endpoints.test },
  { method: 'get', path: '/endpoints/:id/deliveries', handler: ({ endpoints }) => endpoints.deliveries },
  { method: 'get', path: '/endpoints/:id/stats', handler: ({ endpoints }) => endpoints.stats },
  { method: 'post', path: '/endpoints/:id/redeliver', handler: ({ endpoints }) => endpoints.redeliverFailed },
];

/** The OpenAPI path of a route: `/api` before it, `{id}` for `:id`. */
export function openApiPath(route: Pick<ApiRoute, 'path'>): string {
  return `/api${route.path.replace(/:(\w+)/g, '{$1}')}`;
}
