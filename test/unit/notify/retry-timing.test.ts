import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryAfterMs, scheduledDelay } from '../../../src/notify/retry-timing.ts';
import { parseDuration } from '../../../src/config.ts';

describe('retry timing', () => {
  const schedule = '0,5s,5m,30m,2h,5h,10h,10h'.split(',').map(parseDuration);
  it('follows the Standard Webhooks schedule with ±20% jitter', () => {
    assert.deepEqual(schedule, [0, 5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    assert.equal(
      scheduledDelay(schedule, 1, () => 0),
      4000,
    );
    assert.equal(
      scheduledDelay(schedule, 1, () => 0.999999),
      6000,
    );
    assert.equal(
      scheduledDelay(schedule, 2, () => 0.5),
      300_000,
    );
    assert.equal(
      scheduledDelay(schedule, 99, () => 0.5),
      36_000_000,
    );
  });
  it('reads Retry-After in seconds or as a date, within 1 s and 6 h', () => {
    assert.equal(retryAfterMs('2'), 2000);
    assert.equal(retryAfterMs('0'), 1000);
    assert.equal(retryAfterMs('999999'), 6 * 3600_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:01:00 GMT', now), 60_000);
    assert.equal(retryAfterMs('soon'), null);
    assert.equal(retryAfterMs(undefined), null);
  });
});
