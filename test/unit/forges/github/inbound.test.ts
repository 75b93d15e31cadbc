import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { createGithubInbound } from '../../../../src/forges/github/inbound.ts';
import { githubPush, githubSignature } from '../../../helpers/payloads.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('github adapter', () => {
  const forge = createGithubInbound(['old', 'new']);
  const body = Buffer.from(JSON.stringify(githubPush({ before: A, after: B, ref: 'refs/heads/feat/x' })));
  const req = (sig: string, extra = {}) => ({
    headers: { 'x-hub-signature-256': sig, 'x-github-event': 'push', 'x-github-delivery': 'd1', ...extra },
    body,
  });

  it('verifies with any configured secret (rotation)', async () => {
    await forge.verify(req(githubSignature(body, 'old')));
    await forge.verify(req(githubSignature(body, 'new')));
    await assert.rejects(forge.verify(req(githubSignature(body, 'other'))), { code: 'signature_mismatch' });
    await assert.rejects(forge.verify({ headers: {}, body }), { code: 'signature_missing' });
  });
  it('names a verified body for the replay check by its signature, an HMAC of the exact bytes', async () => {
    const sig = githubSignature(body, 'new');
    await forge.verify(req(sig));
    assert.equal(forge.bodyDigest!(req(sig)), createHmac('sha256', 'new').update(body).digest('hex'));
    const other = Buffer.concat([body, Buffer.from(' ')]);
    const sig2 = githubSignature(other, 'new');
    await forge.verify({ ...req(sig2), body: other });
    assert.notEqual(forge.bodyDigest!({ ...req(sig2), body: other }), forge.bodyDigest!(req(sig)));
  });
  it('tells signed non-UTF-8 bytes (400) from forged ones (401)', async () => {
    const bad = Buffer.concat([body, Buffer.from([0xff])]);
    await assert.rejects(
      forge.verify({ headers: { 'x-hub-signature-256': githubSignature(bad, 'new') }, body: bad }),
      {
        code: 'malformed_payload',
      },
    );
    await assert.rejects(
      forge.verify({ headers: { 'x-hub-signature-256': githubSignature(body, 'new') }, body: bad }),
      {
        code: 'signature_mismatch',
      },
    );
  });
  it('parses a push into a PushEvent', () => {
    const r = forge.parse(req(''));
    assert.equal(r.kind, 'build');
    if (r.kind !== 'build') return;
    assert.equal(r.events[0]!.branch, 'feat/x');
    assert.equal(r.events[0]!.tag, undefined);
    assert.equal(r.events[0]!.before, A);
    assert.equal(r.events[0]!.after, B);
    assert.equal(r.events[0]!.repository, 'octo-org/web');
    assert.equal(r.events[0]!.deliveryId, 'd1');
  });
  it('reads form-encoded deliveries', () => {
    const form = Buffer.from(`payload=${encodeURIComponent(body.toString())}`);
    const r = forge.parse({
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-github-event': 'push',
        'x-github-delivery': 'd2',
      },
      body: form,
    });
    assert.equal(r.kind, 'build');
  });
  it('refuses refs git would refuse', () => {
    for (const ref of [
      'refs/heads/a..b',
      'refs/heads/a b',
      'refs/heads/x~1',
      'refs/heads/a\u0000',
      'refs/heads/x.lock',
      'refs/heads/',
    ]) {
      const b = Buffer.from(JSON.stringify(githubPush({ before: A, after: B, ref })));
      assert.throws(
        () => forge.parse({ headers: { 'x-github-event': 'push', 'x-github-delivery': 'd' }, body: b }),
        { code: 'malformed_payload' },
        ref,
      );
    }
  });
});
