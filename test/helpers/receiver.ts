import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A real HTTP receiver that records every request; `respond` picks the status (default 200). */
export async function startReceiver(
  respond: (r: Received, n: number) => number | { status: number; headers?: Record<string, string> } = () =>
    200,
) {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      got.push(r);
      const answer = respond(r, got.length);
      const { status, headers = {} } = typeof answer === 'number' ? { status: answer } : answer;
      res.writeHead(status, headers).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    /** Parsed bodies of what arrived, by type. */
    types: () => got.map((r) => (JSON.parse(r.body) as { type: string }).type),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function waitFor<T>(
  fn: () => T | Promise<T>,
  ms = 30_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until a server at `url` answers: a 2xx, or with `anyStatus` any HTTP answer at all (for a server
 * with nothing at that path); a refused connection is waited out.
 */
export function waitForHttp(
  url: string,
  o: { ms?: number; what?: string; anyStatus?: boolean } = {},
): Promise<true> {
  return waitFor(
    () =>
      fetch(url).then(
        (r) => o.anyStatus === true || r.ok,
        () => false,
      ),
    o.ms ?? 30_000,
    o.what ?? url,
  ) as Promise<true>;
}
