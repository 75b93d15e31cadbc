import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ArtifactStore } from '../../../src/artifacts/artifact-store.ts';
import { MAX_OPEN_UPLOADS } from '../../../src/artifacts/artifact-uploads.ts';
import {
  ConflictError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
} from '../../../src/errors.ts';
import { startRedis, type TestRedis } from '../../helpers/redis.ts';

const DAY = 86_400_000;

describe('artifact store (real Redis, real files)', () => {
  let redis: TestRedis;
  let client: Redis;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  let store: ArtifactStore;
  let dataDir: string;
  const body = (s: string) => Readable.from([Buffer.from(s)]);

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    dataDir = mkdtempSync(join(tmpdir(), 'pushci-test-artifacts-'));
    store = new ArtifactStore({
      redis: client,
      prefix: redis.prefix,
      dataDir,
      retentionMs: 30 * DAY,
      maxBytes: 10,
      now: () => clock,
    });
  });
  after(async () => {
    client.disconnect();
    await redis.stop();
  });

  it('stores, lists and reads an artifact; its job may replace it, another job may not', async () => {
    await store.put('b1', 'build', 'dist', body('one'));
    await store.put('b1', 'build', 'dist', body('two'));
    await assert.rejects(store.put('b1', 'test', 'dist', body('x')), ConflictError);
    const list = await store.list('b1');
    assert.deepEqual(
      list.map((a) => [a.name, a.job, a.size, a.expires_at]),
      [['dist', 'build', 3, '2026-01-31T00:00:00.000Z']],
    );
    assert.equal(await text((await store.open('b1', 'dist')).stream), 'two');
    assert.deepEqual(await store.list('b2'), []);
  });

  it('refuses names that are not plain, and bodies over the cap (leaving no file)', async () => {
    await assert.rejects(store.put('b1', 'build', '../x', body('x')), InvalidRequestError);
    await assert.rejects(store.put('b1', 'build', '.hidden', body('x')), InvalidRequestError);
    await assert.rejects(store.put('b1', 'build', 'big', body('x'.repeat(11))), PayloadTooLargeError);
    assert.deepEqual(readdirSync(join(dataDir, 'artifacts', 'b1')), ['dist.tar.gz']);
  });

  it('expires after the retention: not listed, not readable, then removed with its folder', async () => {
    await store.put('b3', 'build', 'late', body('z'));
    clock += 30 * DAY + 1;
    assert.deepEqual(await store.list('b1'), []);
    await assert.rejects(store.open('b1', 'dist'), NotFoundError);
    // b1 and b3 are past their retention; b4, stored now, stays.
    await store.put('b4', 'build', 'fresh', body('f'));
    assert.equal(await store.sweep(), 2);
    assert.ok(!existsSync(join(dataDir, 'artifacts', 'b1')));
    assert.ok(!existsSync(join(dataDir, 'artifacts', 'b3')));
    assert.ok(existsSync(join(dataDir, 'artifacts', 'b4', 'fresh.tar.gz')));
  });

  it('the artifact protocol: blocks in any order join by the block list; listed only once finalized', async () => {
    const zip = { job: 'make', format: 'zip' as const };
    await store.begin('p1', 'make', 'pkg', zip);
    await store.stageBlock('p1', 'make', 'pkg', 'Yg==', body('world'));
    await store.stageBlock('p1', 'make', 'pkg', 'YQ==', body('hi '));
    await store.commitBlocks('p1', 'make', 'pkg', ['YQ==', 'Yg==']);
    assert.deepEqual(await store.list('p1'), [], 'not listed before FinalizeArtifact');
    await assert.rejects(store.finalize('p1', 'make', 'pkg', { size: 7 }), InvalidRequestError);
    const sha = 'sha256:' + createHash('sha256').update('wrong').digest('hex');
    await assert.rejects(store.finalize('p1', 'make', 'pkg', { digest: sha }), InvalidRequestError);
    const good = 'sha256:' + createHash('sha256').update('hi world').digest('hex');
    const info = await store.finalize('p1', 'make', 'pkg', { size: 8, digest: good });
    assert.equal(info.format, 'zip');
    assert.equal(info.digest, good);
    assert.ok(info.id! > 0);
    assert.equal(await text((await store.open('p1', 'pkg')).stream), 'hi world');
    // Nothing of the upload is left beside the artifact.
    assert.deepEqual(readdirSync(join(dataDir, 'artifacts', 'p1')), ['pkg.blob']);
    // Another job may neither stage into it nor take the name.
    await assert.rejects(store.stageBlock('p1', 'other', 'pkg', 'YQ==', body('x')), NotFoundError);
    await assert.rejects(store.begin('p1', 'other', 'pkg', { job: 'other', format: 'zip' }), ConflictError);
    await assert.rejects(store.delete('p1', 'other', 'pkg'), ConflictError);
    await store.delete('p1', 'make', 'pkg');
    assert.deepEqual(await store.list('p1'), []);
    // One block becomes the file as it is; no block at all is an empty artifact.
    const digestOf = (t: string) => 'sha256:' + createHash('sha256').update(t).digest('hex');
    await store.begin('p1', 'make', 'one', { job: 'make', format: 'file', file_name: 'one' });
    await store.stageBlock('p1', 'make', 'one', 'AA==', body('only'));
    await store.commitBlocks('p1', 'make', 'one', ['AA==']);
    assert.equal((await store.finalize('p1', 'make', 'one', { size: 4, digest: digestOf('only') })).size, 4);
    assert.equal(await text((await store.open('p1', 'one')).stream), 'only');
    // A name that is not plain (spaces, brackets) is kept as given; its files are named after its hash.
    await store.begin('p1', 'make', 'Test Results (3.12)', { job: 'make', format: 'zip' });
    await store.stageBlock('p1', 'make', 'Test Results (3.12)', 'AA==', body('zip'));
    await store.commitBlocks('p1', 'make', 'Test Results (3.12)', ['AA==']);
    await store.finalize('p1', 'make', 'Test Results (3.12)', { size: 3 });
    assert.equal(await text((await store.open('p1', 'Test Results (3.12)')).stream), 'zip');
    assert.ok(readdirSync(join(dataDir, 'artifacts', 'p1')).some((f) => /^~[0-9a-f]{40}\.blob$/.test(f)));
    for (const bad of ['a/b', 'a:b', '.x', ' x', 'x'.repeat(101)])
      await assert.rejects(
        store.begin('p1', 'make', bad, { job: 'make', format: 'zip' }),
        InvalidRequestError,
      );
    await store.begin('p1', 'make', 'none', { job: 'make', format: 'zip' });
    await store.commitBlocks('p1', 'make', 'none', []);
    assert.equal((await store.finalize('p1', 'make', 'none', { size: 0, digest: digestOf('') })).size, 0);
  });

  it('counts the cap across the blocks of an upload as they arrive, and a crashed upload is never listed', async () => {
    await store.begin('p2', 'make', 'big', { job: 'make', format: 'zip' });
    await store.stageBlock('p2', 'make', 'big', 'AA==', body('123456'));
    // 6 staged + 5 arriving > 10: refused while streaming, and the refused block leaves no file.
    await assert.rejects(store.stageBlock('p2', 'make', 'big', 'AQ==', body('12345')), PayloadTooLargeError);
    // Re-staging a block replaces its bytes in the count.
    await store.stageBlock('p2', 'make', 'big', 'AA==', body('12'));
    await store.stageBlock('p2', 'make', 'big', 'AQ==', body('12345678'));
    await store.commitBlocks('p2', 'make', 'big', ['AA==', 'AQ==']);
    await assert.rejects(store.commitBlocks('p2', 'make', 'big', ['AA==', 'Ag==']), InvalidRequestError);
    await assert.rejects(store.stageBlock('p2', 'make', 'big', '../x', body('1')), InvalidRequestError);
    // Never finalized (the job died): not listed, not readable; the folder goes with the retention.
    assert.deepEqual(await store.list('p2'), []);
    await assert.rejects(store.open('p2', 'big'), NotFoundError);
    clock += 31 * DAY;
    await store.sweep();
    assert.ok(!existsSync(join(dataDir, 'artifacts', 'p2')));
  });

  it('past PUSHCI_ARTIFACT_TOTAL_BYTES the oldest artifacts of any build go first, the new one stays', async () => {
    const totalDir = mkdtempSync(join(tmpdir(), 'pushci-test-artifacts-total-'));
    const capped = new ArtifactStore({
      redis: client,
      prefix: `${redis.prefix}-total`,
      dataDir: totalDir,
      retentionMs: 30 * DAY,
      maxBytes: 10,
      totalBytes: 12,
      now: () => clock,
    });
    const at = async (build: string, name: string, bytes: string) => {
      clock += 1000;
      return capped.put(build, 'build', name, body(bytes));
    };
    await at('t1', 'old', '1234');
    await at('t2', 'mid', '1234');
    await at('t2', 'mid', '12345'); // replaced: its 4 bytes leave the total
    assert.equal(await capped.totalBytes(), 9);
    await at('t3', 'new', '123456'); // 15 > 12: "old" (t1) goes; 11 fits
    assert.deepEqual(await capped.list('t1'), []);
    assert.deepEqual(
      [...(await capped.list('t2')), ...(await capped.list('t3'))].map((a) => a.name),
      ['mid', 'new'],
    );
    assert.equal(await capped.totalBytes(), 11);
    await assert.rejects(capped.open('t1', 'old'), NotFoundError);
    assert.ok(!existsSync(join(totalDir, 'artifacts', 't1', 'old.tar.gz')), 'its file went too');
    // One bigger than everything else: all the others go, it stays.
    await at('t4', 'huge', '1234567890');
    assert.deepEqual(
      [...(await capped.list('t2')), ...(await capped.list('t3')), ...(await capped.list('t4'))].map(
        (a) => a.name,
      ),
      ['huge'],
    );
    assert.equal(await capped.totalBytes(), 10);
    // Removing a build (retention) frees its bytes too.
    await capped.remove('t4');
    assert.equal(await capped.totalBytes(), 0);
  });

  it('a job holds at most MAX_OPEN_UPLOADS unfinalized uploads at once; finalizing one frees a place', async () => {
    const names = Array.from({ length: MAX_OPEN_UPLOADS }, (_, i) => `open-${i}`);
    for (const name of names) await store.begin('uploads', 'build', name, { job: 'build', format: 'zip' });
    await assert.rejects(
      store.begin('uploads', 'build', 'one-more', { job: 'build', format: 'zip' }),
      /already has 10 artifact uploads in progress/,
    );
    // Another job of the build has its own places; beginning an open one again is not a new upload.
    await store.begin('uploads', 'test', 'theirs', { job: 'test', format: 'zip' });
    await store.begin('uploads', 'build', names[0]!, { job: 'build', format: 'zip' });
    await store.stageBlock('uploads', 'build', names[0]!, 'AAAA', body('12'));
    await store.commitBlocks('uploads', 'build', names[0]!, ['AAAA']);
    await store.finalize('uploads', 'build', names[0]!, {});
    await store.begin('uploads', 'build', 'one-more', { job: 'build', format: 'zip' });
  });

  it('a deleted artifact (DeleteArtifact, overwrite: true) frees its bytes, so the cap never evicts another build for it', async () => {
    const capped = new ArtifactStore({
      redis: client,
      prefix: `${redis.prefix}-deleted`,
      dataDir: mkdtempSync(join(tmpdir(), 'pushci-test-artifacts-deleted-')),
      retentionMs: 30 * DAY,
      maxBytes: 10,
      totalBytes: 25,
      now: () => clock,
    });
    await capped.put('victim', 'build', 'release', body('0123456789'));
    // What a job could repeat: upload through the protocol, then delete; each time its 10 bytes must leave.
    for (let i = 0; i < 3; i++) {
      clock += 1000;
      await capped.begin('other', 'build', 'x', { job: 'build', format: 'zip' });
      await capped.stageBlock('other', 'build', 'x', 'AAAA', body('0123456789'));
      await capped.commitBlocks('other', 'build', 'x', ['AAAA']);
      await capped.finalize('other', 'build', 'x', {});
      await capped.delete('other', 'build', 'x');
      assert.equal(await capped.totalBytes(), 10, `after delete ${i + 1} only the release is counted`);
    }
    assert.deepEqual(
      (await capped.list('victim')).map((a) => a.name),
      ['release'],
      'the other build kept its artifact',
    );
  });
});
