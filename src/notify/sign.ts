import { Webhook } from 'standardwebhooks';

/**
 * The Standard Webhooks `webhook-signature` value: `v1,<base64>` per secret, space-separated, so a
 * receiver that knows either secret verifies during a rotation.
 */
export function signatureHeader(
  secrets: readonly string[],
  msgId: string,
  timestamp: Date,
  body: string,
): string {
  return secrets.map((s) => new Webhook(s).sign(msgId, timestamp, body)).join(' ');
}

/** Throws unless the secret is a `whsec_` secret standardwebhooks can use. */
export function checkSecret(secret: string): void {
  if (!secret.startsWith('whsec_')) throw new Error('callback secret must start with whsec_');
  new Webhook(secret);
}
