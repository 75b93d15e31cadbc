import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** Standard Webhooks' default: a delivery more than 5 minutes off the clock is refused (replays). */
const TOLERANCE_S = 5 * 60;

/**
 * The key of a `whsec_<base64>` secret, decoded once per secret (a process knows only a few) into a
 * KeyObject: Node 24's createHmac tells a Buffer key from a KeyObject by catching a thrown error, which
 * cost more than the HMAC of a small body.
 */
const keys = new Map<string, KeyObject>();
const KEYS_KEPT = 100;

function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64'));
    if (keys.size >= KEYS_KEPT) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/**
 * Whether `signature` (`v1,<base64>` entries, space-separated) signs `<id>.<timestamp>.<body>` under any
 * of `secrets`, with the timestamp within 5 minutes of `now`. The HMAC runs over the exact received
 * bytes: libraries that take the body as a string decode it first, and decoding can change bytes
 * (a UTF-8 BOM dropped, invalid sequences replaced), so two different bodies could share a signature.
 */
export function standardWebhookMatches(
  body: Buffer,
  id: string,
  timestamp: string,
  signature: string,
  secrets: readonly string[],
  now = Date.now(),
): boolean {
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now / 1000 - Number(timestamp)) > TOLERANCE_S) return false;
  const given = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'))
    .filter((b) => b.length === 32);
  if (given.length === 0) return false;
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.`).update(body).digest();
    for (const g of given) ok = timingSafeEqual(expected, g) || ok;
  }
  return ok;
}
