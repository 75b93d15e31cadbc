import assert from 'node:assert/strict';

/** A JSON request to a pushci API with a bearer token, as the CLI sends it. */
export async function apiCall(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}

/** Registers an endpoint through the API and asserts it was created; the answer has its id and secret. */
export async function registerEndpoint(
  base: string,
  token: string,
  body: Record<string, unknown>,
): Promise<{ id: string; secret: string } & Record<string, any>> {
  const res = await apiCall(base, token, 'POST', '/api/endpoints', body);
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;
}
