import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { signatureHeader } from '../../../src/notify/sign.ts';

const secret = () => `whsec_${randomBytes(24).toString('base64')}`;

describe('signatureHeader', () => {
  it('is what the standardwebhooks package signs, byte for byte, and it verifies', () => {
    const s = secret();
    const at = new Date(1_765_000_000_123);
    for (const body of [
      '{}',
      JSON.stringify({ type: 'build.completed', text: 'é ünïcode ✓ 🚀' }),
      'x'.repeat(70_000),
    ]) {
      const header = signatureHeader([s], 'msg_1', at, body);
      assert.equal(header, new Webhook(s).sign('msg_1', at, body));
      const now = new Date();
      const headers = {
        'webhook-id': 'msg_2',
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signatureHeader([s], 'msg_2', now, body),
      };
      assert.doesNotThrow(() => new Webhook(s).verify(body, headers, { jsonParse: false }));
    }
  });

  it('signs with each secret of a rotation, and a receiver with either verifies; a third does not', () => {
    const [a, b, c] = [secret(), secret(), secret()];
    const now = new Date();
    const body = '{"type":"build.queued"}';
    const headers = {
      'webhook-id': 'msg_3',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signatureHeader([a, b], 'msg_3', now, body),
    };
    assert.equal(headers['webhook-signature'].split(' ').length, 2);
    assert.doesNotThrow(() => new Webhook(a).verify(body, headers));
    assert.doesNotThrow(() => new Webhook(b).verify(body, headers));
    assert.throws(() => new Webhook(c).verify(body, headers), /No matching signature/);
  });

  it('refuses a secret that is not a whsec_ secret', () => {
    assert.throws(() => signatureHeader(['plain'], 'msg_4', new Date(), '{}'), /whsec_/);
  });
});
