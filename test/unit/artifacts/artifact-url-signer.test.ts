import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArtifactUrlSigner, type ArtifactUrlScope } from '../../../src/artifacts/artifact-url-signer.ts';
import { ForbiddenError } from '../../../src/errors.ts';
import { suiteRedis } from '../../helpers/suite-redis.ts';

describe('artifact URL signatures (real Redis for the key)', () => {
  const db = suiteRedis();
  let clock = 1_000_000;
  const scope: ArtifactUrlScope = {
    purpose: 'download',
    buildId: 'b1',
    job: 'use',
    owner: 'make',
    name: 'dist',
  };
  const parse = (q: string) => Object.fromEntries(new URLSearchParams(q)) as { expires: string; sig: string };

  it('accepts its own signature until it expires, and nothing else', async () => {
    const signer = new ArtifactUrlSigner(db.client, db.redis.prefix, () => clock);
    const q = parse(await signer.sign(scope, 60_000));
    await signer.verify(scope, q.expires, q.sig);
    for (const other of [
      { ...scope, purpose: 'upload' as const },
      { ...scope, buildId: 'b2' },
      { ...scope, job: 'other' },
      { ...scope, owner: 'use' },
      { ...scope, name: 'dist2' },
    ])
      await assert.rejects(signer.verify(other, q.expires, q.sig), ForbiddenError);
    await assert.rejects(signer.verify(scope, String(Number(q.expires) + 1), q.sig), ForbiddenError);
    await assert.rejects(signer.verify(scope, q.expires, 'a'.repeat(64)), ForbiddenError);
    await assert.rejects(signer.verify(scope, q.expires, ''), ForbiddenError);
    await assert.rejects(signer.verify(scope, 'soon', q.sig), ForbiddenError);
    clock += 60_000;
    await assert.rejects(signer.verify(scope, q.expires, q.sig), /expired/);
  });

  it('every server process shares the key (kept in Redis), so a restart keeps URLs valid', async () => {
    const a = new ArtifactUrlSigner(db.client, db.redis.prefix, () => clock);
    const q = parse(await a.sign(scope, 1000));
    await new ArtifactUrlSigner(db.client, db.redis.prefix, () => clock).verify(scope, q.expires, q.sig);
    const elsewhere = new ArtifactUrlSigner(db.client, `${db.redis.prefix}-other`, () => clock);
    await assert.rejects(elsewhere.verify(scope, q.expires, q.sig), ForbiddenError);
  });
});
