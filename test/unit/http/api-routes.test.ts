import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FORGE_LIST } from '../../../src/forges/registry.ts';
import { API_ROUTES, openApiPath } from '../../../src/http/api-routes.ts';
import { openApiDocument } from '../../../src/http/openapi.ts';

type Operation = {
  responses: Record<string, unknown>;
  security?: unknown[];
  parameters?: Array<{ name: string; in: string }>;
};
const doc = openApiDocument('https://ci.example.com', '0.0.0') as {
  paths: Record<string, Record<string, Operation>>;
};

describe('the API routes and the OpenAPI document agree', () => {
  it('every route of the router is documented, with its path parameters and a success status', () => {
    for (const r of API_ROUTES) {
      const op = doc.paths[openApiPath(r)]?.[r.method];
      assert.ok(op, `${r.method.toUpperCase()} ${openApiPath(r)} is in the OpenAPI document`);
      assert.ok(
        Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)),
        `${r.method} ${r.path}: a 2xx answer`,
      );
      const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
      const documented = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      assert.deepEqual(documented.toSorted(), params.toSorted(), `${r.method} ${r.path}: path parameters`);
    }
  });

  it('every documented /api operation is a route (nothing documented that does not exist)', () => {
    const routes = new Set(API_ROUTES.map((r) => `${r.method} ${openApiPath(r)}`));
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/')) continue;
      for (const method of Object.keys(ops)) assert.ok(routes.has(`${method} ${path}`), `${method} ${path}`);
    }
  });

  it('every /api operation documents the token (401), the cross-site guard (403) and its bearer security', () => {
    for (const r of API_ROUTES) {
      const op = doc.paths[openApiPath(r)]![r.method]!;
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
