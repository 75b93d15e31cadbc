import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BuildRecord } from '../../../src/queue/build-record.ts';
import { keys as keysOf } from '../../../src/queue/keys.ts';
import { listBuilds, type BuildFilter } from '../../../src/queue/list-builds.ts';
import { withScripts } from '../../../src/queue/scripts.ts';
import { suiteRedis } from '../../helpers/suite-redis.ts';

describe('listBuilds pages the builds index newest first (real Redis)', () => {
  const s = suiteRedis();
  /** A record with what the filters read; the list takes records from `get`, as the store's hashes give them. */
  const record = (id: string, branch: string) =>
    ({ meta: { id, repository: 'o/r', branch, event: 'push' }, status: 'success' }) as unknown as BuildRecord;

  const pages = async (prefix: string, filter: BuildFilter, limit: number, scanLimit?: number) => {
    const k = keysOf(prefix);
    const records = new Map<string, BuildRecord>();
    for (const id of await s.client.zrange(k.index, '0', '-1'))
      records.set(id, record(id, Number(id.slice(1)) % 3 === 0 ? 'main' : 'dev'));
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5000; i++) {
      const page = await listBuilds(
        withScripts(s.client),
        k,
        async (id) => records.get(id) ?? null,
        filter,
        cursor,
        limit,
        scanLimit,
      );
      assert.ok(page.records.length <= limit);
      seen.push(...page.records.map((r) => r.meta.id));
      if (page.next === null) return seen;
      assert.match(page.next, /^\(?[\d.]+:[0-9a-z]+$/, 'the API accepts the cursor it hands out');
      cursor = page.next;
    }
    throw new Error('never ended');
  };

  it('lists every build once when hundreds share a millisecond, with and without a filter', async () => {
    // 450 builds in one millisecond (more than a batch of 200 reads) and 50 in the next ones: the failure
    // this guards against lost every build of a millisecond past the first batch read after the cursor.
    const prefix = `${s.redis.prefix}a`;
    const k = keysOf(prefix);
    for (let i = 0; i < 500; i++) await s.client.zadd(k.index, i < 450 ? 7000 : 7001 + i, `b${i}`);
    const expected = await s.client.zrevrange(k.index, 0, -1);
    for (const limit of [1, 7, 50, 199, 200, 500])
      assert.deepEqual(await pages(prefix, {}, limit), expected, `limit ${limit}`);
    const main = expected.filter((id) => Number(id.slice(1)) % 3 === 0);
    for (const limit of [1, 20, 400])
      assert.deepEqual(await pages(prefix, { branch: 'main' }, limit), main, `branch filter, limit ${limit}`);
    // A scan limit smaller than a batch ends pages early; `next` still goes on where the scan stopped.
    assert.deepEqual(await pages(prefix, { branch: 'main' }, 100, 37), main, 'scan limit 37');
  });

  it('ends with no next page when the index is empty, and resumes an older "(<score>:" cursor below it', async () => {
    const prefix = `${s.redis.prefix}b`;
    const k = keysOf(prefix);
    assert.deepEqual(await pages(prefix, {}, 10), []);
    for (const [score, id] of [
      [10, 'x1'],
      [10, 'x2'],
      [9, 'x3'],
    ] as const)
      await s.client.zadd(k.index, score, id);
    const page = await listBuilds(
      withScripts(s.client),
      k,
      async (id) => record(id, 'main'),
      {},
      '(10:undefined',
      10,
    );
    assert.deepEqual(
      page.records.map((r) => r.meta.id),
      ['x3'],
    );
    assert.equal(page.next, null);
  });
});
