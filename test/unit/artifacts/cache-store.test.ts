import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { CacheStore } from '../../../src/artifacts/cache-store.ts';
import type { JobGrant } from '../../../src/artifacts/job-credentials.ts';
import { ConflictError, NotFoundError, PayloadTooLargeError } from '../../../src/errors.ts';
import { startRedis, type TestRedis } from '../../helpers/redis.ts';

const grant = (ref: string, repository = 'github:o/r'): JobGrant => ({
  buildId: 'b1',
  job: 'j',
  attempt: 1,
  repository,
  ref,
  defaultRef: 'refs/heads/main',
});
const MAIN = grant('refs/heads/main');
const FEATURE = grant('refs/heads/feature');

describe('cache store (real Redis, real files)', () => {
  let redis: TestRedis;
  let client: Redis;
  let clock = 1_000_000;
  let store: CacheStore;
  let dataDir: string;

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    dataDir = mkdtempSync(join(tmpdir(), 'pushci-test-caches-'));
    store = new CacheStore({ redis: client, prefix: redis.prefix, dataDir, maxBytes: 100, now: () => clock });
  });
  after(async () => {
    client.disconnect();
    await redis.stop();
  });

  const save = async (g: JobGrant, key: string, body: string) => {
    clock += 1000;
    const id = await store.reserve(g, key, 'v1');
    await store.write(g, id, Readable.from([Buffer.from(body)]));
    return store.commit(g, id);
  };
  const read = async (g: JobGrant, keys: string[]) => {
    const hit = await store.lookup(g, keys, 'v1');
    return hit ? { key: hit.key, body: await text((await store.open(g, hit.id)).stream) } : null;
  };

  it('finds the exact key, else the newest entry a restore-key prefixes; versions never mix', async () => {
    await save(MAIN, 'deps-a', 'A');
    await save(MAIN, 'deps-b', 'B');
    assert.deepEqual(await read(MAIN, ['deps-a']), { key: 'deps-a', body: 'A' });
    assert.deepEqual(await read(MAIN, ['deps-zzz', 'deps-']), { key: 'deps-b', body: 'B' });
    assert.equal(await read(MAIN, ['deps-zzz', 'other-']), null);
    assert.equal(await store.lookup(MAIN, ['deps-a'], 'v2'), null);
  });

  it('entries are immutable: saving an existing key is a conflict', async () => {
    await assert.rejects(store.reserve(MAIN, 'deps-a', 'v1'), ConflictError);
  });

  it('a branch reads its own and the default branch’s entries; no other branch’s, no other repository’s', async () => {
    await save(FEATURE, 'feat-1', 'F');
    assert.deepEqual(await read(FEATURE, ['deps-a']), { key: 'deps-a', body: 'A' });
    assert.deepEqual(await read(FEATURE, ['feat-1']), { key: 'feat-1', body: 'F' });
    assert.equal(await read(MAIN, ['feat-1']), null);
    assert.equal(await read(grant('refs/heads/other'), ['feat-', 'feat-1']), null);
    assert.equal(await read(grant('refs/heads/main', 'github:o/other'), ['deps-a']), null);
    // Not by id either.
    const hit = (await store.lookup(FEATURE, ['feat-1'], 'v1'))!;
    await assert.rejects(store.open(grant('refs/heads/other'), hit.id), NotFoundError);
  });

  it('refuses an upload past the cap and leaves nothing behind', async () => {
    const id = await store.reserve(MAIN, 'big', 'v1');
    await assert.rejects(store.write(MAIN, id, Readable.from([Buffer.alloc(101)])), PayloadTooLargeError);
    await store.abandon(MAIN, id);
    assert.equal(await store.lookup(MAIN, ['big'], 'v1'), null);
    assert.ok(!readdirSync(join(dataDir, 'caches')).some((f) => f.endsWith('.part')));
  });

  it('evicts the least recently used entries when the total passes the cap', async () => {
    await save(MAIN, 'lru-old', 'x'.repeat(40));
    await save(MAIN, 'lru-used', 'y'.repeat(40));
    clock += 1000;
    assert.ok(await read(MAIN, ['deps-a']), 'deps-a is used now');
    assert.ok(await read(MAIN, ['lru-old']), 'so is lru-old');
    // 1 + 1 + 1 + 40 + 40 = 83 bytes; 30 more pass 100: the least recently used go first (deps-b, feat-1, lru-used).
    await save(MAIN, 'lru-new', 'z'.repeat(30));
    assert.ok((await store.totalBytes()) <= 100);
    assert.equal(await read(MAIN, ['lru-used']), null);
    assert.ok(await read(MAIN, ['lru-old']));
    assert.ok(await read(MAIN, ['lru-new']));
    assert.ok(await read(MAIN, ['deps-a']));
    assert.equal(await read(MAIN, ['deps-b']), null);
    const files = readdirSync(join(dataDir, 'caches'));
    assert.equal(files.length, 3, `one file per entry left (deps-a, lru-old, lru-new): ${files.join(' ')}`);
  });
});
