import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/** A stored secret could not be opened: another key, or tampered with. */
export class SecretBoxError extends Error {}

/**
 * Endpoint secrets at rest: AES-256-GCM with a 96-bit random nonce per value, and the endpoint id as
 * associated data, so a ciphertext copied onto another endpoint does not open. The stored text names
 * the key (`v1.<key id>.<nonce>.<tag>.<ciphertext>`), so a process with the wrong key says so instead of
 * sending unsigned garbage.
 */
export class SecretBox {
  private readonly key: Buffer;
  /** First 16 hex digits of SHA-256 of the key: identifies it without revealing it. */
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the endpoint secrets key must be 32 bytes');
    this.key = key;
    this.keyId = keyIdOf(key);
  }

  seal(plaintext: string, context: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const b64 = (b: Buffer) => b.toString('base64url');
    return [VERSION, this.keyId, b64(nonce), b64(cipher.getAuthTag()), b64(ct)].join('.');
  }

  open(stored: string, context: string): string {
    const [version, keyId, nonce, tag, ct] = stored.split('.');
    if (version !== VERSION || !nonce || !tag || ct === undefined)
      throw new SecretBoxError('a stored endpoint secret is not in a format this pushci knows');
    if (keyId !== this.keyId)
      throw new SecretBoxError(
        `endpoint secrets were encrypted with key ${keyId}, but this process has key ${this.keyId}: give every pushci process the same PUSHCI_SECRETS_KEY (or the same data dir)`,
      );
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new SecretBoxError('a stored endpoint secret does not open with this key (tampered with?)');
    }
  }
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** Parses `PUSHCI_SECRETS_KEY` or the key file: 32 bytes in base64 (what `openssl rand -base64 32` prints). */
export function parseSecretsKey(text: string, where: string): Buffer {
  const t = text.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(t) ? Buffer.from(t, 'base64') : Buffer.alloc(0);
  if (key.length !== 32)
    throw new Error(`${where} must be 32 random bytes in base64 (make one with: openssl rand -base64 32)`);
  return key;
}
