import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cursorText, newestAfter, readCursor, type TimeCursor } from '../../../src/queue/newest-after.ts';
import { withScripts } from '../../../src/queue/scripts.ts';
import { suiteRedis } from '../../helpers/suite-redis.ts';

describe('newestAfter pages a time index newest first (real Redis)', () => {
  const s = suiteRedis();
  const all = async (key: string, size: number) => {
    const seen: string[] = [];
    let after: TimeCursor | null = null;
    for (let i = 0; i < 1000; i++) {
      const page = await newestAfter(withScripts(s.client), key, after, size);
      seen.push(...page.map((e) => e.member));
      if (page.length < size) return seen;
      after = readCursor(cursorText({ score: page.at(-1)!.score, member: page.at(-1)!.member }))!;
    }
    throw new Error('never ended');
  };

  it('skips and repeats nothing when many entries share a millisecond, at any page size', async () => {
    const key = `${s.redis.prefix}t1`;
    // 30 entries in three milliseconds, members in no particular order: the failure this guards
    // against lost every entry of a millisecond after the page's last one.
    const entries = Array.from({ length: 30 }, (_, i) => ({
      at: 1000 + (i % 3),
      m: `msg_${(i * 7) % 30}.x`,
    }));
    for (const e of entries) await s.client.zadd(key, e.at, e.m);
    const expected = await s.client.zrevrange(key, 0, -1);
    assert.equal(expected.length, 30);
    for (const size of [1, 2, 3, 7, 10, 30, 31])
      assert.deepEqual(await all(key, size), expected, `size ${size}`);
  });

  it('resumes exactly after a cursor whose entry left the index, and after a score-only cursor', async () => {
    const key = `${s.redis.prefix}t2`;
    for (const m of ['a', 'b', 'c', 'd']) await s.client.zadd(key, 5, m);
    await s.client.zadd(key, 9, 'z');
    await s.client.zadd(key, 1, 'old');
    const r = withScripts(s.client);
    const first = await newestAfter(r, key, null, 3);
    assert.deepEqual(
      first.map((e) => e.member),
      ['z', 'd', 'c'],
    );
    await s.client.zrem(key, 'c');
    const next = await newestAfter(r, key, { score: '5', member: 'c' }, 10);
    assert.deepEqual(
      next.map((e) => e.member),
      ['b', 'a', 'old'],
    );
    const byScore = await newestAfter(r, key, { score: '5', member: '' }, 10);
    assert.deepEqual(
      byScore.map((e) => e.member),
      ['old'],
    );
    // An entry that moved (a redelivery) is found by its score in the cursor, not where it went.
    await s.client.zadd(key, 20, 'b');
    const moved = await newestAfter(r, key, { score: '5', member: 'b' }, 10);
    assert.deepEqual(
      moved.map((e) => e.member),
      ['a', 'old'],
    );
  });

  it('reads cursors as handed out and refuses anything else', () => {
    assert.deepEqual(readCursor('1700000000000-msg_ab.c_1'), {
      score: '1700000000000',
      member: 'msg_ab.c_1',
    });
    assert.deepEqual(readCursor('1700000000000'), { score: '1700000000000', member: '' });
    assert.equal(cursorText({ score: '17', member: '' }), '17');
    for (const bad of ['', 'x', '-1', '17-', '17-a b', `17-${'a'.repeat(301)}`])
      assert.equal(readCursor(bad), undefined, bad);
  });
});
