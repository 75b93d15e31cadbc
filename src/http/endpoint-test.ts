import type { Context } from 'koa';
import type { Config } from '../config.ts';
import { InvalidRequestError } from '../errors.ts';
import { createAddressGuard } from '../notify/ssrf.ts';
import { sendTestEvents } from '../notify/test-events.ts';
import { readJsonBody } from './json-body.ts';

/**
 * `POST /api/endpoints/test` with `{"url", "secret"}`: a signed example of every outbound event type,
 * sent now (through the same address guard as real deliveries). Answers what each attempt got.
 */
export function testEndpoint(config: Readonly<Config>) {
  const guard = createAddressGuard(config.notifyAllow);
  return async (ctx: Context) => {
    const body = await readJsonBody(ctx);
    if (typeof body.url !== 'string' || body.url.length === 0) throw new InvalidRequestError('give "url"');
    const secrets = Array.isArray(body.secret)
      ? body.secret
      : typeof body.secret === 'string'
        ? [body.secret]
        : config.notifySecrets;
    if (secrets.length === 0 || !secrets.every((s) => typeof s === 'string' && s.startsWith('whsec_'))) {
      throw new InvalidRequestError('give "secret": a whsec_ secret (or one or two in a list)');
    }
    const deliveries = await sendTestEvents(body.url, secrets as string[], {
      guard,
      timeoutMs: config.notifyTimeoutMs,
      publicUrl: config.publicUrl,
    });
    ctx.body = { ok: deliveries.every((d) => d.error === null), deliveries };
  };
}
