import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { DeliveryLog, type Attempt, type DeliveryState } from '../../../src/notify/delivery-log.ts';
import type { DeliveryJob } from '../../../src/notify/emit.ts';
import { keys } from '../../../src/queue/keys.ts';
import { suiteRedis } from '../../helpers/suite-redis.ts';

/** Every key under `prefix` and what it holds (TTLs as set or not), with the prefix taken out. */
async function dump(client: Redis, prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of (await client.keys(`${prefix}:*`)).sort()) {
    const type = await client.type(key);
    const value =
      type === 'hash'
        ? await client.hgetall(key)
        : type === 'list'
          ? await client.lrange(key, 0, -1)
          : type === 'zset'
            ? await client.zrange(key, '0', '-1', 'WITHSCORES')
            : type;
    out[key.slice(prefix.length)] = { value, expires: (await client.pttl(key)) > 0 };
  }
  return out;
}

const job = (msgId: string, endpointId: string, buildId: string): DeliveryJob => ({
  kind: 'webhook',
  msgId,
  type: 'build.completed',
  buildId,
  ...(buildId ? { buildNumber: 7 } : {}),
  pipeline: buildId ? 'ci' : '',
  endpointId,
  target: `http://${endpointId}.example/hook`,
  endpoint: { kind: 'global', id: endpointId },
  body: '{}',
});

const attempt = (n: number, at: string, status: number | null, error: string | null): Attempt => ({
  attempt: n,
  at,
  status,
  duration_ms: 10 + n,
  error,
  body: status === null ? null : 'ok',
});

/**
 * Attempts to two endpoints, one message without a build, repeated messages (a retry after a failure,
 * in the same batch), every state, and two days and hours: what the batch adds up must land as if
 * each attempt had been written on its own.
 */
const RECORDS: Array<[DeliveryJob, Attempt, DeliveryState]> = [
  [job('m1', 'e1', 'b1'), attempt(1, '2026-12-05T23:59:59.000Z', 500, 'receiver answered 500'), 'retrying'],
  [job('m2', 'e1', 'b1'), attempt(1, '2026-12-06T00:00:01.000Z', 200, null), 'delivered'],
  [job('m1', 'e1', 'b1'), attempt(2, '2026-12-06T00:00:02.000Z', 200, null), 'delivered'],
  [job('m3', 'e2', 'b2'), attempt(1, '2026-12-06T00:00:03.000Z', null, 'ECONNREFUSED'), 'retrying'],
  [job('m3', 'e2', 'b2'), attempt(2, '2026-12-06T01:00:04.000Z', null, 'ECONNREFUSED'), 'failed'],
  [job('m4', 'e2', 'b2'), attempt(1, '2026-12-06T01:00:05.000Z', null, 'paused'), 'held'],
  [job('m5', 'e2', 'b2'), attempt(1, '2026-12-06T01:00:06.000Z', null, 'paused: drop'), 'dropped'],
  [job('m6', 'e1', ''), attempt(1, '2026-12-06T01:00:07.000Z', 204, null), 'delivered'],
  [job('m7', 'e2', 'b1'), attempt(1, '2026-12-06T01:00:08.000Z', 202, null), 'delivered'],
];

describe('DeliveryLog.record (real Redis)', () => {
  const s = suiteRedis();

  it('writes a turn of attempts, added up in one script call, as if each were written alone', async () => {
    const oneByOne = `${s.redis.prefix}:a`;
    const batched = `${s.redis.prefix}:b`;
    const alone = new DeliveryLog(s.client, keys(oneByOne));
    for (const [d, a, state] of RECORDS) await alone.record(d, a, state);
    const together = new DeliveryLog(s.client, keys(batched));
    await Promise.all(RECORDS.map(([d, a, state]) => together.record(d, a, state)));

    const expected = await dump(s.client, oneByOne);
    assert.deepEqual(await dump(s.client, batched), expected);
    // What the one-by-one writes hold is what the log promises (so the comparison compares something).
    const stats = expected[':stats:deliveries'] as { value: Record<string, string> };
    assert.deepEqual(stats.value, {
      retrying: '2',
      delivered: '4',
      failed: '1',
      held: '1',
      dropped: '1',
      attempts: '7',
    });
    assert.deepEqual((expected[':epstats:e1'] as { value: unknown }).value, {
      last_failure_at: '2026-12-05T23:59:59.000Z',
      last_success_at: '2026-12-06T01:00:07.000Z',
      delivered: '3',
    });
    assert.deepEqual((expected[':epstats:e2'] as { value: unknown }).value, {
      last_failure_at: '2026-12-06T01:00:04.000Z',
      last_success_at: '2026-12-06T01:00:08.000Z',
      failed: '1',
      dropped: '1',
      delivered: '1',
    });
    assert.deepEqual((expected[':epstats:e2:20261206'] as { value: unknown }).value, {
      '0:fail': '1',
      '0:ms': '11',
      '1:fail': '1',
      '1:ms': '23',
      '1:ok': '1',
    });
    assert.equal((expected[':epstats:e2:20261206'] as { expires: boolean }).expires, true);
    assert.equal((expected[':delivery:m6'] as { expires: boolean }).expires, true);
    assert.equal((expected[':delivery:m1'] as { expires: boolean }).expires, false);
    assert.deepEqual(await together.forBuild('b1'), ['m2', 'm1', 'm7']);
    assert.deepEqual(await together.recent(10), ['m7', 'm6', 'm5', 'm4', 'm3', 'm1', 'm2']);
  });
});
