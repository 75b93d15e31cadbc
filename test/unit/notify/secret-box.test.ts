import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SecretBox, SecretBoxError, parseSecretsKey } from '../../../src/notify/secret-box.ts';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));
  const secret = `whsec_${randomBytes(32).toString('base64')}`;

  it('opens what it sealed, and the stored text reveals nothing of the secret', () => {
    const stored = box.seal(secret, 'ep_a');
    assert.equal(box.open(stored, 'ep_a'), secret);
    assert.ok(!stored.includes(secret.slice(6)));
    assert.notEqual(box.seal(secret, 'ep_a'), stored, 'a fresh nonce each time');
    assert.match(stored, new RegExp(`^v1\\.${box.keyId}\\.`));
  });

  it('refuses another endpoint, a changed byte and another key, naming the problem', () => {
    const stored = box.seal(secret, 'ep_a');
    assert.throws(() => box.open(stored, 'ep_b'), SecretBoxError);
    const parts = stored.split('.');
    const ct = Buffer.from(parts[4]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[4] = ct.toString('base64url');
    assert.throws(() => box.open(parts.join('.'), 'ep_a'), /tampered/);
    const other = new SecretBox(randomBytes(32));
    assert.throws(() => other.open(stored, 'ep_a'), /same PUSHCI_SECRETS_KEY/);
    assert.throws(() => box.open('plain text', 'ep_a'), SecretBoxError);
  });

  it('takes a key of exactly 32 bytes in base64', () => {
    assert.equal(parseSecretsKey(randomBytes(32).toString('base64'), 'K').length, 32);
    assert.throws(() => parseSecretsKey(randomBytes(16).toString('base64'), 'K'), /openssl rand -base64 32/);
    assert.throws(() => parseSecretsKey('not base64 at all!', 'K'), /32 random bytes/);
  });
});
