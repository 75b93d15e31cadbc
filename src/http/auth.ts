import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';

const LOOPBACK = /^(?:127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** A direct loopback client: a request relayed by a proxy (which forwards headers) does not count. */
export function isDirectLoopback(ctx: Context): boolean {
  const addr = ctx.req.socket.remoteAddress ?? '';
  return LOOPBACK.test(addr) && !ctx.get('x-forwarded-for') && !ctx.get('forwarded');
}

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * `/api` access: the bearer token when `PUSHCI_API_TOKEN` is set; without one, only direct loopback
 * clients, so a fresh install is not an open API on the network.
 */
export function apiAuth(token: string | undefined) {
  return async (ctx: Context, next: Next) => {
    if (token) {
      const given = /^Bearer\s+(.+)$/i.exec(ctx.get('authorization'))?.[1];
      if (!given || !sameSecret(given.trim(), token)) {
        ctx.set('WWW-Authenticate', 'Bearer realm="pushci"');
        throw new UnauthorizedError('send Authorization: Bearer <PUSHCI_API_TOKEN>');
      }
    } else if (!isDirectLoopback(ctx)) {
      throw new ForbiddenError('the API answers only loopback clients until PUSHCI_API_TOKEN is set');
    }
    await next();
  };
}
