import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ArtifactUrlSigner, type ArtifactUrlScope } from '../../../src/artifacts/artifact-url-signer.ts';
import { ForbiddenError } from '../../../src/errors.ts';
import { startRedis, type TestRedis } from '../../helpers/redis.ts';

describe('artifact URL signatures (real Redis for the key)', () => {
  let redis: TestRedis;
  let client: Redis;
  let clock = 1_000_000;
  const scope: ArtifactUrlScope = {
    purpose: 'download',
    buildId: 'b1',
    job: 'use',
    owner: 'make',
    name: 'dist',
  };
  const parse = (q: string) => Object.fromEntries(new URLSearchParams(q)) as { expires: string; sig: string };

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  after(async () => {
    client.disconnect();
    await redis.stop();
  });

  it('accepts its own signature until it expires, and nothing else', async () => {
    const signer = new ArtifactUrlSigner(client, redis.prefix, () => clock);
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
    const a = new ArtifactUrlSigner(client, redis.prefix, () => clock);
    const q = parse(await a.sign(scope, 1000));
    await new ArtifactUrlSigner(client, redis.prefix, () => clock).verify(scope, q.expires, q.sig);
    const elsewhere = new ArtifactUrlSigner(client, `${redis.prefix}-other`, () => clock);
    await assert.rejects(elsewhere.verify(scope, q.expires, q.sig), ForbiddenError);
  });
});
