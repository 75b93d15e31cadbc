import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { ForbiddenError, InvalidRequestError, UnauthorizedError } from '../errors.ts';
import { readJsonBody } from './json-body.ts';

const LOOPBACK = /^(?:127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
export const TOKEN_COOKIE = 'pushci_token';

/** A direct loopback client: a request relayed by a proxy (which forwards headers) does not count. */
export function isDirectLoopback(ctx: Context): boolean {
  const addr = ctx.req.socket.remoteAddress ?? '';
  return LOOPBACK.test(addr) && !ctx.get('x-forwarded-for') && !ctx.get('forwarded');
}

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Access to `/api`, the dashboard's data and `/admin/queues`: the bearer token (or the cookie the
 * dashboard's login sets, so EventSource and Bull Board work) when `PUSHCI_API_TOKEN` is set; without
 * one, only direct loopback clients, so a fresh install is not an open API on the network.
 */
export function apiAuth(token: string | undefined) {
  return async (ctx: Context, next: Next) => {
    if (token) {
      const given =
        /^Bearer\s+(.+)$/i.exec(ctx.get('authorization'))?.[1]?.trim() ?? ctx.cookies.get(TOKEN_COOKIE);
      if (!given || !sameSecret(given, token)) {
        ctx.set('WWW-Authenticate', 'Bearer realm="pushci"');
        throw new UnauthorizedError(
          'send Authorization: Bearer <PUSHCI_API_TOKEN>, or log in on the dashboard',
        );
      }
    } else if (!isDirectLoopback(ctx)) {
      throw new ForbiddenError('the API answers only loopback clients until PUSHCI_API_TOKEN is set');
    }
    await next();
  };
}

/** `POST /login` `{"token"}`: checks the token and keeps it in an HttpOnly, SameSite=Strict cookie. */
export function login(token: string | undefined) {
  return async (ctx: Context) => {
    const body = await readJsonBody(ctx, 4096);
    if (!token)
      throw new InvalidRequestError(
        'no PUSHCI_API_TOKEN is set on this server: the dashboard is open to loopback clients only',
      );
    if (typeof body.token !== 'string' || !sameSecret(body.token, token))
      throw new UnauthorizedError('wrong token');
    ctx.cookies.set(TOKEN_COOKIE, body.token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: ctx.secure,
      path: '/',
      maxAge: 30 * 86400_000,
      overwrite: true,
    });
    ctx.body = { ok: true };
  };
}
