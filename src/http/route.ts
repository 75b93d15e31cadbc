import type { Middleware } from 'koa';
import type { Router } from '@koa/router';
import { pathParam, type Json } from './openapi/parts.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** An OpenAPI operation without its path parameters: the route's path gives those. */
export interface Operation {
  summary: string;
  /** Query and header parameters. */
  parameters?: Json[];
  requestBody?: Json;
  /** By status code; the surface's common answers (its 401, say) are added unless given here. */
  responses: Record<string, Json>;
}

/**
 * One route: the router is built from these rows and the OpenAPI document's `paths` from the same rows,
 * so neither can have a route the other lacks.
 */
export interface Route<H> {
  method: Method;
  /** Koa's path (`:id` is a parameter), relative to the surface's prefix. */
  path: string;
  handler(h: H): Middleware;
  /** The operation the document shows; `null` keeps the route out of it (say why next to the row). */
  doc: Operation | null;
}

/** What every route of one router shares: its prefix, and what its auth adds to each operation. */
export interface Surface {
  prefix: string;
  security?: Json[];
  responses?: Record<string, Json>;
}

/** Registers every row on the router, in the table's order (the order Koa matches them in). */
export function mountRoutes<H>(router: Router, routes: readonly Route<H>[], h: H): void {
  for (const r of routes) router[r.method](r.path, r.handler(h));
}

/** The names of a Koa path's parameters, in order. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
}

/** The OpenAPI path of a route: the surface's prefix before it, `{id}` for `:id`. */
export function openApiPath(surface: Pick<Surface, 'prefix'>, path: string): string {
  return `${surface.prefix}${path.replace(/:(\w+)/g, '{$1}')}`;
}

/** The OpenAPI `paths` of a route table: every documented row, its path parameters from its path. */
export function openApiPaths(
  surface: Surface,
  routes: readonly Route<never>[],
): Record<string, Record<string, Json>> {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    if (!r.doc) continue;
    const { parameters = [], responses, ...rest } = r.doc;
    const all = [...pathParams(r.path).map(pathParam), ...parameters];
    (paths[openApiPath(surface, r.path)] ??= {})[r.method] = {
      ...rest,
      ...(surface.security ? { security: surface.security } : {}),
      ...(all.length > 0 ? { parameters: all } : {}),
      responses: { ...surface.responses, ...responses },
    };
  }
  return paths;
}
