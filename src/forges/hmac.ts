import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Whether `hexSignature` is the HMAC-SHA256 of the raw bytes under any of `secrets`. Every secret is
 * tried (no early exit) and compared in constant time.
 */
export function hmacMatches(body: Buffer, hexSignature: string, secrets: readonly string[]): boolean {
  if (!/^[0-9a-f]{64}$/i.test(hexSignature)) return false;
  const given = Buffer.from(hexSignature.toLowerCase(), 'hex');
  let ok = false;
  for (const s of secrets) ok = timingSafeEqual(createHmac('sha256', s).update(body).digest(), given) || ok;
  return ok;
}
