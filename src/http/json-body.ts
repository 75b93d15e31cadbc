import type { Context } from 'koa';
import { InvalidRequestError } from '../errors.ts';
import { readRawBody } from './raw-body.ts';

/** An API request body: empty, or one JSON object of at most `limit` bytes. */
export async function readJsonBody(ctx: Context, limit = 64 * 1024): Promise<Record<string, unknown>> {
  const raw = await readRawBody(ctx.req, limit);
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new InvalidRequestError('body must be JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InvalidRequestError('body must be a JSON object');
  return value as Record<string, unknown>;
}
