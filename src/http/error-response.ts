import { PushciError } from '../errors.ts';

/** The one place error codes become HTTP statuses. */
const STATUS: Record<string, number> = {
  signature_missing: 401,
  signature_mismatch: 401,
  unauthorized: 401,
  forbidden: 403,
  cross_site_request: 403,
  admin_read_only: 403,
  malformed_payload: 400,
  invalid_request: 400,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unsupported_media_type: 415,
  store_unavailable: 503,
  repository_unavailable: 502,
  intake_busy: 503,
};

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  /** `{ "error": code, "message": text, ...details }`. */
  body: Record<string, unknown>;
  /** False for errors pushci did not expect (a bug): the caller logs them as errors. */
  expected: boolean;
}

/** What any error answers, for the Koa routes and the webhook route alike. */
export function errorResponse(err: unknown): ErrorResponse {
  if (!(err instanceof PushciError)) {
    return {
      status: 500,
      headers: {},
      body: { error: 'internal_error', message: 'internal error; see the server log' },
      expected: false,
    };
  }
  const headers: Record<string, string> = {};
  if (err.code === 'store_unavailable') headers['Retry-After'] = '5';
  if (err.code === 'repository_unavailable') headers['Retry-After'] = '30';
  if (err.code === 'rate_limited') headers['Retry-After'] = String(err.details?.retry_after_s ?? 60);
  if (err.code === 'intake_busy') headers['Retry-After'] = String(err.details?.retry_after_s ?? 5);
  if (err.code === 'method_not_allowed') headers.Allow = String(err.details?.allow ?? 'POST');
  // The rest of an oversized body is not worth reading: answer, then close the connection.
  if (err.code === 'payload_too_large' || err.code === 'intake_busy') headers.Connection = 'close';
  return {
    status: STATUS[err.code] ?? 500,
    headers,
    body: { error: err.code, message: err.message, ...err.details },
    expected: true,
  };
}
