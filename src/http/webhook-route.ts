import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { MethodNotAllowedError, SignatureMismatchError, SignatureMissingError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ClientAddress } from './client-address.ts';
import { errorResponse } from './error-response.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { WebhookAnswer } from './webhooks.ts';

const PREFIX = '/webhooks/';

export interface WebhookRouteDeps {
  receive(forge: string, req: IncomingMessage, log: () => Logger): Promise<WebhookAnswer>;
  /** Names the metrics may use as a label; any other path segment counts as `unknown`. */
  forgeNames: ReadonlySet<string>;
  /** Counts every answer, errors included. */
  answered(forge: string, status: number): void;
  /** Authentication failures per client address (PUSHCI_RATE_LIMIT). */
  failures: RateLimiter;
  clientAddress: ClientAddress;
  log: Logger;
}

/**
 * `/webhooks/:forge` served by node:http directly, everything else passed on to `next` (the Koa app).
 * The webhook route is the hot path, every push of every repository; Koa's context, router and
 * middleware chain were a large share of its cost in the intake profile. The contract is the same as
 * the Koa routes': JSON bodies, errors mapped by `errorResponse`, an `X-Request-Id` on every answer.
 */
export function webhookRoute(deps: WebhookRouteDeps, next: RequestListener): RequestListener {
  return (req, res) => {
    const url = req.url ?? '';
    if (!url.startsWith(PREFIX)) return next(req, res);
    const q = url.indexOf('?');
    const segment = url.slice(PREFIX.length, q === -1 ? undefined : q);
    if (segment === '' || segment.includes('/')) return next(req, res);
    let forge: string;
    try {
      forge = decodeURIComponent(segment);
    } catch {
      return next(req, res);
    }
    handle(deps, forge, req, res).catch((err: unknown) => {
      // Only writing the answer can fail here (everything else is answered as an error above).
      deps.log.error({ err }, 'could not answer a webhook');
      res.destroy();
    });
  };
}

async function handle(deps: WebhookRouteDeps, forge: string, req: IncomingMessage, res: ServerResponse) {
  const id = randomUUID();
  let log: Logger | undefined;
  const requestLog = () => (log ??= deps.log.child({ req_id: id }));
  let status: number;
  let body: Record<string, unknown>;
  let headers: Record<string, string> = {};
  try {
    if (req.method !== 'POST')
      throw new MethodNotAllowedError(`${req.method} is not allowed here; forges POST webhooks`, {
        allow: 'POST',
      });
    ({ status, body } = await deps.receive(forge, req, requestLog));
  } catch (caught) {
    let err = caught;
    // Only failed authentications count, and they are judged after the signature check: a signed
    // delivery is never refused because someone else sent unsigned noise from the same address (a
    // proxy, a NAT). A source over its limit gets 429 instead of 401, so it learns to back off.
    if (err instanceof SignatureMissingError || err instanceof SignatureMismatchError) {
      const source = deps.clientAddress(req);
      try {
        deps.failures.check(source);
      } catch (limited) {
        err = limited;
      }
      deps.failures.count(source);
    }
    const r = errorResponse(err);
    ({ status, body, headers } = r);
    if (r.expected) requestLog().info({ status, error: body.error, reason: body.message }, 'request refused');
    else requestLog().error({ err }, 'unhandled error');
  }
  deps.answered(deps.forgeNames.has(forge) ? forge : 'unknown', status);
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'X-Request-Id': id,
    ...headers,
  });
  res.end(text);
}
