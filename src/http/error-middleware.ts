import type { Context, Next } from 'koa';
import { PushciError } from '../errors.ts';

/** The one place error codes become HTTP statuses. */
const STATUS: Record<string, number> = {
  signature_missing: 401,
  signature_mismatch: 401,
  unauthorized: 401,
  forbidden: 403,
  malformed_payload: 400,
  invalid_request: 400,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unsupported_media_type: 415,
  store_unavailable: 503,
};

/** Every error answers `{ "error": code, "message": text }` with the status for its code. */
export async function errorMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', message: `no route for ${ctx.method} ${ctx.path}` };
    }
  } catch (err) {
    if (err instanceof PushciError) {
      ctx.status = STATUS[err.code] ?? 500;
      ctx.body = { error: err.code, message: err.message, ...err.details };
      if (err.code === 'store_unavailable') ctx.set('Retry-After', '5');
      if (err.code === 'rate_limited') ctx.set('Retry-After', String(err.details?.retry_after_s ?? 60));
      // The rest of an oversized body is not worth reading: answer, then close the connection.
      if (err.code === 'payload_too_large') ctx.set('Connection', 'close');
      ctx.state.log?.info({ status: ctx.status, error: err.code, reason: err.message }, 'request refused');
    } else {
      ctx.status = 500;
      ctx.body = { error: 'internal_error', message: 'internal error; see the server log' };
      ctx.state.log?.error({ err }, 'unhandled error');
    }
  }
}
