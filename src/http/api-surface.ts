import type { WebhookLog } from '../queue/webhook-log.ts';
import type { AppDeps } from './app.ts';
import type { ArtifactsDeps } from './artifacts.ts';
import type { endpointHandlers } from './endpoints.ts';
import { error } from './openapi/parts.ts';
import type { Route, Surface } from './route.ts';

/** What the handlers of the API are made from. */
export interface ApiHandlerDeps {
  deps: AppDeps;
  webhookLog: WebhookLog;
  endpoints: ReturnType<typeof endpointHandlers>;
  artifacts: ArtifactsDeps;
}

/** One route of `/api`: Koa's path (`:id`), relative to `/api`. */
export type ApiRoute = Route<ApiHandlerDeps>;

/**
 * `/api` sits behind the API token and the cross-site guard (app.ts), so every operation takes the bearer
 * token and may answer 401 and 403.
 */
export const API_SURFACE: Surface = {
  prefix: '/api',
  security: [{ bearer: [] }],
  responses: {
    '401': error('No or wrong token (PUSHCI_API_TOKEN, or the dashboard’s login cookie)'),
    '403': error('Forbidden: a cross-site write with the login cookie'),
  },
};
