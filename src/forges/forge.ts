import type { ForgeName, PushEvent } from '../model.ts';

/** A webhook request as it arrived: headers (lower-case names) and the exact raw body. */
export interface InboundRequest {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

/**
 * What a verified delivery means:
 * - `push`: one push per ref (Bitbucket sends several refs in one delivery); pipelines decide what runs.
 * - `ping`: the forge checking the hook is reachable; answer 200, do nothing.
 * - `ignored`: a valid delivery of an event pushci does not act on; answer 202 "ignored: <event>".
 */
export type ForgeResult =
  | { kind: 'push'; deliveryId: string; events: PushEvent[] }
  | { kind: 'ping'; deliveryId: string }
  | { kind: 'ignored'; event: string; deliveryId: string };

/**
 * One forge adapter. The receiver calls `verify` on the raw bytes first and `parse` only when it passed,
 * so nothing from an unauthenticated body is ever parsed.
 */
export interface Forge {
  readonly name: ForgeName;
  /** Throws `SignatureMissingError` or `SignatureMismatchError` unless the request is authentic. */
  verify(req: InboundRequest): Promise<void>;
  /** Reads a verified request. Throws `MalformedPayloadError` when the body is not what the forge sends. */
  parse(req: InboundRequest): ForgeResult;
}

/** First value of a header, whatever its multiplicity. */
export function header(req: InboundRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
