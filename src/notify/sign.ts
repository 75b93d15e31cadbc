import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Signing keys by secret: each `whsec_` secret is decoded once (a process knows only a few), into a
 * KeyObject: on Node 24 `createHmac` given a Buffer key first tests whether it is a KeyObject by catching
 * a thrown error, which cost more than the HMAC of a message itself.
 */
const keys = new Map<string, KeyObject>();
const KEYS_KEPT = 1000;

function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    checkSecret(secret);
    key = createSecretKey(Buffer.from(secret.slice('whsec_'.length), 'base64'));
    if (keys.size >= KEYS_KEPT) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/**
 * The Standard Webhooks `webhook-signature` value: `v1,<base64>` per secret, space-separated, so a
 * receiver that knows either secret verifies during a rotation. The same bytes as the standardwebhooks
 * package's `sign` (HMAC-SHA256 of `<id>.<unix seconds>.<body>`), computed with node:crypto rather than
 * its JavaScript SHA-256, which cost a worker about as much CPU as the rest of signing a message.
 */
export function signatureHeader(
  secrets: readonly string[],
  msgId: string,
  timestamp: Date,
  body: string,
): string {
  const signed = `${msgId}.${Math.floor(timestamp.getTime() / 1000)}.${body}`;
  return secrets
    .map((s) => `v1,${createHmac('sha256', keyOf(s)).update(signed, 'utf8').digest('base64')}`)
    .join(' ');
}

/** Throws unless the secret is a `whsec_` secret standardwebhooks can use. */
export function checkSecret(secret: string): void {
  if (!secret.startsWith('whsec_')) throw new Error('callback secret must start with whsec_');
  new Webhook(secret);
}
