import type { Context, Next } from 'koa';
import { CrossSiteRequestError } from '../errors.ts';
import { bearerToken } from './auth.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * No cross-site writes: a state-changing request that relies on the login cookie must come from the
 * dashboard itself. It needs `Content-Type: application/json` when it is a POST or carries a body (an
 * HTML form cannot send that type, and a cross-site fetch with it must pass a CORS preflight pushci never
 * grants), and a same-origin `Sec-Fetch-Site`, or, from browsers that do not send that, an `Origin` equal
 * to this server's (the Host it was asked by, or `publicUrl`). SameSite=Strict alone is not enough: a page
 * on another port of the same host is same-site. A bearer token is proof enough: no page can make a
 * browser send one. Everything else gets 403 with the reason.
 */
export function sameOriginWrites(publicUrl: string) {
  const publicOrigin = new URL(publicUrl).origin;
  return async (ctx: Context, next: Next) => {
    if (SAFE.has(ctx.method) || bearerToken(ctx) !== undefined) return next();
    const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
    if ((ctx.method === 'POST' || hasBody) && !ctx.is('application/json'))
      throw new CrossSiteRequestError(
        `${ctx.method} needs Content-Type: application/json (got ${ctx.get('content-type') || 'none'})`,
      );
    const site = ctx.get('sec-fetch-site');
    if (site) {
      if (site !== 'same-origin')
        throw new CrossSiteRequestError(
          `refused a ${site} request: only the dashboard itself (same origin) may change state with the login cookie`,
        );
      return next();
    }
    const origin = ctx.get('origin');
    if (!origin)
      throw new CrossSiteRequestError(
        'no Origin header: send Authorization: Bearer <token>, or use the dashboard',
      );
    if (origin !== `${ctx.protocol}://${ctx.host}` && origin !== publicOrigin)
      throw new CrossSiteRequestError(
        `refused a request from ${origin}: only the dashboard itself (same origin) may change state with the login cookie`,
      );
    return next();
  };
}
