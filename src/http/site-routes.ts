import type { Middleware } from 'koa';
import { pipelineJsonSchema } from '../pipelines/schema.ts';
import type { AppDeps } from './app.ts';
import { badge } from './badge.ts';
import { dashboardAsset, dashboardPage } from './dashboard.ts';
import type { createMetrics } from './metrics.ts';
import { anyObject, body, errors, json, object, query } from './openapi/parts.ts';
import type { Route, Surface } from './route.ts';

/** What the routes outside `/api` are made from. */
export interface SiteHandlerDeps {
  deps: AppDeps;
  metrics: ReturnType<typeof createMetrics>;
  /** `/login`, with its rate limit on wrong tokens. */
  login: Middleware;
  /** The OpenAPI document `/openapi.json` serves (built from these tables, so passed in). */
  openapi: Record<string, unknown>;
}

/** The routes at the root: no token (the dashboard's page loads its data from `/api`). */
export const SITE_SURFACE: Surface = { prefix: '' };

/** Every Koa route outside `/api` and `/job`, in the order Koa matches them. */
export const SITE_ROUTES: readonly Route<SiteHandlerDeps>[] = [
  {
    method: 'get',
    path: '/metrics',
    handler: ({ metrics }) => metrics.handler,
    doc: {
      summary: 'Prometheus metrics',
      responses: { '200': body('text/plain', 'Text exposition format') },
    },
  },
  {
    method: 'get',
    path: '/badge/:pipeline.svg',
    handler: ({ deps }) => badge(deps),
    doc: {
      summary: "Status badge of the pipeline's last finished build",
      parameters: [query('branch')],
      responses: { '200': body('image/svg+xml', 'SVG'), '304': { description: 'Not modified' } },
    },
  },
  // The dashboard's HTML page and modules: for browsers, not an API.
  { method: 'get', path: '/', handler: () => dashboardPage(), doc: null },
  { method: 'get', path: '/dashboard/:file', handler: () => dashboardAsset(), doc: null },
  // The login link `pushci serve` prints: it sets the cookie and redirects to the dashboard.
  { method: 'get', path: '/login', handler: ({ login }) => login, doc: null },
  {
    method: 'post',
    path: '/login',
    handler: ({ login }) => login,
    doc: {
      summary: 'Dashboard login: checks the API token and sets an HttpOnly cookie',
      requestBody: json(object({ token: { type: 'string' } }), 'The token'),
      responses: { '200': anyObject('Logged in'), ...errors(400, 401) },
    },
  },
  {
    method: 'get',
    path: '/healthz',
    handler: () => (ctx) => {
      ctx.body = { ok: true };
    },
    doc: { summary: 'The process is up', responses: { '200': anyObject('Up') } },
  },
  {
    method: 'get',
    path: '/readyz',
    handler:
      ({ deps }) =>
      async (ctx) => {
        const redis =
          deps.redis.status === 'ready' &&
          (await deps.redis.ping().then(
            () => true,
            () => false,
          ));
        const set = deps.pipelines();
        const ok = redis && set.pipelines.length > 0;
        ctx.status = ok ? 200 : 503;
        ctx.body = { ok, redis, pipelines: set.pipelines.length, problems: set.diagnostics.length };
      },
    doc: {
      summary: 'Redis reachable and pipelines loaded',
      responses: { '200': anyObject('Ready'), '503': anyObject('Not ready') },
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    handler:
      ({ openapi }) =>
      (ctx) => {
        ctx.body = openapi;
      },
    doc: { summary: 'This document', responses: { '200': anyObject('OpenAPI 3.1') } },
  },
  {
    method: 'get',
    path: '/schema/pipeline.json',
    handler: () => (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = pipelineJsonSchema();
    },
    doc: { summary: 'JSON Schema of pipeline files', responses: { '200': anyObject('Schema') } },
  },
];
