import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Router } from '@koa/router';
import { FORGE_LIST } from '../../../src/forges/registry.ts';
import { API_ROUTES } from '../../../src/http/api-routes.ts';
import { API_SURFACE } from '../../../src/http/api-surface.ts';
import { JOB_ROUTES } from '../../../src/http/job-routes.ts';
import { JOB_SURFACE } from '../../../src/http/job-surface.ts';
import { openApiDocument } from '../../../src/http/openapi.ts';
import { mountRoutes, openApiPath, pathParams, type Route, type Surface } from '../../../src/http/route.ts';
import { SITE_ROUTES, SITE_SURFACE } from '../../../src/http/site-routes.ts';

type Operation = {
  responses: Record<string, unknown>;
  security?: unknown[];
  parameters?: Array<{ name: string; in: string }>;
};
const doc = openApiDocument('https://ci.example.com', '0.0.0') as {
  paths: Record<string, Record<string, Operation>>;
};
const TABLES: Array<[Surface, readonly Route<never>[]]> = [
  [API_SURFACE, API_ROUTES],
  [SITE_SURFACE, SITE_ROUTES],
  [JOB_SURFACE, JOB_ROUTES],
];
const documented = (s: Surface, routes: readonly Route<never>[]) =>
  routes.filter((r) => r.doc).map((r) => `${r.method} ${openApiPath(s, r.path)}`);

/** A router built the way app.ts builds it, from the table (handlers stubbed: only the matching counts). */
function routerOf(routes: readonly Route<never>[]): Router {
  const router = new Router();
  mountRoutes(
    router,
    routes.map((r) => ({ ...r, handler: () => () => {} })),
    undefined as never,
  );
  return router;
}

/** A concrete URL for an OpenAPI path: `x1`, `x2`... for its parameters. */
const concrete = (path: string) => {
  let n = 0;
  return path.replace(/\{\w+\}/g, () => `x${++n}`);
};

describe('the route tables and the OpenAPI document agree', () => {
  it('every documented operation at the root, under /api and under /job is a row of a table, and every documented row is in the document', () => {
    const fromTables = new Set(TABLES.flatMap(([s, routes]) => documented(s, routes)));
    const webhooks = new Set(FORGE_LIST.map((f) => `post /webhooks/${f.name}`));
    const inDoc = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    assert.deepEqual(inDoc.filter((op) => !webhooks.has(op)).toSorted(), [...fromTables].toSorted());
    for (const op of webhooks) assert.ok(inDoc.includes(op), op);
  });

  it('no router is given a route except through mountRoutes, so no route can bypass the tables', () => {
    const src = join(import.meta.dirname, '../../../src');
    const direct = /\b\w+\s*\.(?:get|post|put|patch|delete|all|use)\(\s*['"`]\//;
    const offenders = (readdirSync(src, { recursive: true, encoding: 'utf8' }) as string[])
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        readFileSync(join(src, f), 'utf8')
          .split('\n')
          .flatMap((line, i) => (direct.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
      );
    assert.deepEqual(offenders, []);
  });

  it('a router built from each table answers every operation the document shows for it', () => {
    for (const [s, routes] of TABLES) {
      const router = routerOf(routes);
      for (const [path, ops] of Object.entries(doc.paths)) {
        if (s.prefix !== '' ? !path.startsWith(`${s.prefix}/`) : /^\/(api|job|webhooks)\//.test(path))
          continue;
        for (const method of Object.keys(ops)) {
          const url = concrete(path).slice(s.prefix.length);
          const m = router.match(url, method.toUpperCase());
          assert.ok(m.route && m.pathAndMethod.length > 0, `${method} ${path} (${url}) is routed`);
        }
      }
    }
  });

  it('every documented row has its path parameters, in order, and a success status', () => {
    for (const [s, routes] of TABLES)
      for (const r of routes) {
        if (!r.doc) continue;
        const op = doc.paths[openApiPath(s, r.path)]![r.method]!;
        assert.ok(
          Object.keys(op.responses).some((c) => /^2\d\d$/.test(c)),
          `${r.method} ${r.path}: a 2xx answer`,
        );
        const params = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        assert.deepEqual(params, pathParams(r.path), `${r.method} ${r.path}: path parameters`);
      }
  });

  it('only the dashboard page, its files and the login link stay out of the document', () => {
    const hidden = TABLES.flatMap(([s, routes]) =>
      routes.filter((r) => !r.doc).map((r) => `${r.method} ${openApiPath(s, r.path)}`),
    );
    assert.deepEqual(hidden.toSorted(), ['get /', 'get /dashboard/{file}', 'get /login']);
  });

  it('every /api operation documents the token (401), the cross-site guard (403) and its bearer security', () => {
    for (const r of API_ROUTES) {
      const op = doc.paths[openApiPath(API_SURFACE, r.path)]![r.method]!;
      assert.ok(op.responses['401'], `${r.method} ${r.path}: 401`);
      assert.ok(op.responses['403'], `${r.method} ${r.path}: 403`);
      assert.deepEqual(op.security, [{ bearer: [] }], `${r.method} ${r.path}: security`);
    }
  });

  it('every forge webhook documents every status the receiver answers', () => {
    for (const f of FORGE_LIST) {
      const op = doc.paths[`/webhooks/${f.name}`]?.post;
      assert.ok(op, f.name);
      // 429: too many failed authentications from one source; 503: Redis unavailable or intake busy.
      for (const status of ['200', '202', '400', '401', '404', '413', '429', '503'])
        assert.ok(op.responses[status], `${f.name}: ${status}`);
    }
  });
});

describe('the /job routes', () => {
  it('every /job operation takes the job credential and documents its 401', () => {
    for (const r of JOB_ROUTES) {
      const op = doc.paths[openApiPath(JOB_SURFACE, r.path)]![r.method]!;
      assert.deepEqual(op.security, [{ jobCredential: [] }], `${r.method} ${r.path}: security`);
      assert.ok(op.responses['401'], `${r.method} ${r.path}: 401`);
    }
  });

  it('every Twirp method of the artifact service is its own documented operation', () => {
    const methods = Object.keys(doc.paths)
      .filter((p) => p.startsWith('/job/twirp/'))
      .map((p) => p.slice(p.lastIndexOf('/') + 1));
    assert.deepEqual(methods.toSorted(), [
      'CreateArtifact',
      'DeleteArtifact',
      'FinalizeArtifact',
      'GetSignedArtifactURL',
      'ListArtifacts',
    ]);
  });
});
