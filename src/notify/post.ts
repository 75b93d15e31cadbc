import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { RefusedAddressError, type AddressGuard } from './ssrf.ts';

export interface PostResult {
  status: number;
  headers: IncomingHttpHeaders;
  /** The first 4 KiB of the response body. */
  body: string;
  durationMs: number;
}

const BODY_KEEP = 4096;

/**
 * One POST through the address guard: no redirects followed (Node's http never follows them), a hard
 * timeout for the whole exchange, and only the first 4 KiB of the answer kept.
 */
export function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  { guard, timeoutMs }: { guard: AddressGuard; timeoutMs: number },
): Promise<PostResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return reject(new RefusedAddressError(`"${url}" is not a URL`));
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return reject(
        new RefusedAddressError(`only http and https URLs are delivered to, not ${target.protocol}`),
      );
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const why = guard.refusal(host);
      if (why) return reject(new RefusedAddressError(why));
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'pushci',
          ...headers,
          'content-length': String(Buffer.byteLength(body)),
        },
        lookup: guard.lookup,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          if (kept < BODY_KEEP) {
            chunks.push(c);
            kept += c.length;
          }
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).subarray(0, BODY_KEEP).toString('utf8'),
            durationMs: Math.round(performance.now() - started),
          });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}
