import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
/** A kept-alive connection nobody used for this long is closed (before a receiver's usual 5 s). */
const IDLE_MS = 4000;
const FREE_KEPT = 256;

/**
 * Kept-alive connections, one pool per address guard (so a connection opened under one guard's
 * allow-list never serves another's) and per endpoint's host and port within it. A connection is only
 * opened through the guard's `lookup`, which checks the address it connects to; reusing it keeps that
 * checked address, so DNS rebinding cannot move an open connection elsewhere.
 */
const agents = new WeakMap<AddressGuard, { http: HttpAgent; https: HttpsAgent }>();
function agentsFor(guard: AddressGuard) {
  let a = agents.get(guard);
  if (!a) {
    // As many idle connections kept per endpoint as a worker has delivery slots: with fewer, every
    // burst to a fast endpoint closed and reopened most of its connections.
    const opts = {
      keepAlive: true,
      timeout: IDLE_MS,
      maxFreeSockets: FREE_KEPT,
      scheduling: 'lifo' as const,
    };
    a = { http: new HttpAgent(opts), https: new HttpsAgent(opts) };
    agents.set(guard, a);
  }
  return a;
}

/**
 * One POST through the address guard: no redirects followed (Node's http never follows them), a hard
 * timeout for the whole exchange, and only the first 4 KiB of the answer kept. The connection is kept
 * alive for the endpoint's next message.
 */
export function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  { guard, timeoutMs }: { guard: AddressGuard; timeoutMs: number },
): Promise<PostResult> {
  const started = performance.now();
  return send(url, headers, body, guard, timeoutMs, started, false);
}

function send(
  url: string,
  headers: Record<string, string>,
  body: string,
  guard: AddressGuard,
  timeoutMs: number,
  started: number,
  retried: boolean,
): Promise<PostResult> {
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
    const https = target.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(
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
        agent: https ? agentsFor(guard).https : agentsFor(guard).http,
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
    const left = Math.max(1, timeoutMs - (performance.now() - started));
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), left);
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // A kept-alive connection the receiver closed as this request went out: once more, on a new one.
      if (req.reusedSocket && !retried && (err.code === 'ECONNRESET' || err.code === 'EPIPE'))
        return resolve(send(url, headers, body, guard, timeoutMs, started, true));
      reject(err);
    });
    req.end(body);
  });
}
