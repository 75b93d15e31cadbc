import type { ApiRoute } from './api-surface.ts';
import { BUILD_ROUTES } from './build-routes.ts';
import { ENDPOINT_ROUTES } from './endpoint-routes.ts';
import { RECORD_ROUTES } from './record-routes.ts';

/**
 * Every route of `/api`, in the order Koa matches them. The router and the OpenAPI document's `/api`
 * paths are both built from this table (see route.ts).
 */
export const API_ROUTES: readonly ApiRoute[] = [...BUILD_ROUTES, ...RECORD_ROUTES, ...ENDPOINT_ROUTES];
