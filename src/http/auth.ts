import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { InvalidRequestError, UnauthorizedError } from '../errors.ts';
import type { ClientAddress } from './client-address.ts';
import { readJsonBody } from './json-body.ts';
import type { RateLimiter } from './rate-limit.ts';

export const TOKEN_COOKIE = 'pushci_token';

/** Hashing both sides first makes the comparison constant-time whatever the lengths. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** The bearer token of a request, if it sends one. */
export function bearerToken(ctx: Context): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(ctx.get('authorization'))?.[1]?.trim();
}

/**
 * Access to `/api`, the dashboard's data, its live events and `/admin/queues`: the bearer token, or the
 * cookie the dashboard's login sets (so EventSource and Bull Board work). Always, whatever the network
 * path: "loopback only" is no boundary once an `ssh -R` tunnel or a proxy relays to loopback.
 */
export function apiAuth(token: string) {
  return async (ctx: Context, next: Next) => {
    const given = bearerToken(ctx) ?? ctx.cookies.get(TOKEN_COOKIE);
    if (!given || !sameSecret(given, token)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="pushci"');
      throw new UnauthorizedError(
        'send Authorization: Bearer <token> (PUSHCI_API_TOKEN, or the api-token file in the data dir), or log in on the dashboard',
      );
    }
    await next();
  };
}

export interface LoginDeps {
  token: string;
  /** Counts wrong tokens per client address; over its limit, `/login` answers 429 for a while. */
  failures: RateLimiter;
  clientAddress: ClientAddress;
}

/**
 * `/login`: `POST {"token"}` (the dashboard's form), or `GET ?token=` (the link `pushci serve` prints,
 * as Jupyter does). Either checks the token and keeps it in an HttpOnly, SameSite=Strict cookie; the GET
 * then redirects to `/` so the token leaves the address bar. Wrong tokens are rate-limited per client.
 */
export function login(deps: LoginDeps) {
  return async (ctx: Context) => {
    const source = deps.clientAddress(ctx.req);
    deps.failures.check(source);
    const given = ctx.method === 'GET' ? ctx.query.token : (await readJsonBody(ctx, 4096)).token;
    if (typeof given !== 'string' || given === '')
      throw new InvalidRequestError(
        ctx.method === 'GET' ? 'the link has no ?token=' : 'send {"token": "..."}',
      );
    if (!sameSecret(given, deps.token)) {
      deps.failures.count(source);
      throw new UnauthorizedError('wrong token');
    }
    ctx.cookies.set(TOKEN_COOKIE, given, {
      httpOnly: true,
      sameSite: 'strict',
      secure: ctx.secure,
      path: '/',
      maxAge: 30 * 86400_000,
      overwrite: true,
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Referrer-Policy', 'no-referrer');
    if (ctx.method === 'GET') {
      ctx.status = 303;
      ctx.redirect('/');
      return;
    }
    ctx.body = { ok: true };
  };
}
