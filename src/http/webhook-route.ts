import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { MethodNotAllowedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { errorResponse } from './error-response.ts';
import type { WebhookAnswer } from './webhooks.ts';

const PREFIX = '/webhooks/';

export interface WebhookRouteDeps {
  receive(forge: string, req: IncomingMessage, log: () => Logger): Promise<WebhookAnswer>;
  /** Names the metrics may use as a label; any other path segment counts as `unknown`. */
  forgeNames: ReadonlySet<string>;
  /** Counts every answer, errors included. */
  answered(forge: string, status: number): void;
  /** Throws `RateLimitedError` for a source over its limit. */
  checkRate(source: string): void;
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
    deps.checkRate(req.socket.remoteAddress ?? 'unknown');
    ({ status, body } = await deps.receive(forge, req, requestLog));
  } catch (err) {
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
