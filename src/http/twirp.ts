import type { Context } from 'koa';
import { InvalidRequestError, PushciError } from '../errors.ts';
import { errorResponse } from './error-response.ts';
import { readJsonBody } from './json-body.ts';
import { json, object } from './openapi/parts.ts';

/** Twirp's error codes, by the HTTP status pushci's errors have. */
const TWIRP: Record<number, string> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  409: 'already_exists',
  413: 'out_of_range',
};

/** A Twirp method: errors become Twirp's `{ code, msg }` (the client reads `msg`; 4xx are not retried). */
export function twirp(handle: (ctx: Context, body: Record<string, unknown>) => Promise<unknown>) {
  return async (ctx: Context) => {
    try {
      const body = await readJsonBody(ctx, 64 * 1024);
      ctx.body = await handle(ctx, body);
    } catch (err) {
      if (!(err instanceof PushciError)) throw err;
      const r = errorResponse(err);
      ctx.status = r.status;
      ctx.body = { code: TWIRP[r.status] ?? 'internal', msg: err.message };
    }
  };
}

/** A required string field of a Twirp request. */
export function text(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v === '') throw new InvalidRequestError(`${field} is required`);
  return v;
}

/** A protobuf wrapper (StringValue, Int64Value) in JSON: the bare value. */
export function wrapped(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'object' && 'value' in v) return String((v as { value: unknown }).value);
  throw new InvalidRequestError(`${field} is not a value`);
}

const twirpError = object({ code: { type: 'string' }, msg: { type: 'string' } }, ['code', 'msg']);

/** The answers every Twirp method of the artifact service documents. */
export const TWIRP_RESPONSES = {
  '200': json({ type: 'object' }, 'The method’s response'),
  '400': json(twirpError, 'invalid_argument'),
  '403': json(twirpError, 'permission_denied: another build’s or job’s ids'),
  '404': json(twirpError, 'not_found'),
};
