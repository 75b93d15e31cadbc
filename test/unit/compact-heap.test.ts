import assert from 'node:assert/strict';
import { getHeapSpaceStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import { compactHeap } from '../../src/compact-heap.ts';

const youngBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

/** Allocates objects that survive a few scavenges (as module loading or requests in flight do). */
function churn(n: number, each?: () => void): void {
  let keep: object[] = [];
  for (let i = 0; i < n; i++) {
    keep.push({ i, s: `x${i}` });
    if (keep.length > 200_000) keep = [];
    if (each && i % 1000 === 0) each();
  }
}

describe('compactHeap', () => {
  it('gives back the young generation that start-up grew, without leaving gc() reachable', () => {
    churn(3_000_000);
    const grown = youngBytes();
    assert.ok(grown >= 8 * 2 ** 20, `the young generation grew to ${grown} bytes`);
    const r = compactHeap();
    assert.ok(youngBytes() < grown / 2, `young generation ${grown} -> ${youngBytes()} bytes`);
    assert.ok(r.freedBytes > 0 && r.ms >= 0);
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
    assert.equal(runInNewContext('typeof gc'), 'undefined');
  });

  it('lets the young generation grow back in big steps once work comes (not by doubling)', () => {
    compactHeap();
    const sizes = [youngBytes()];
    churn(3_000_000, () => {
      if (youngBytes() !== sizes.at(-1)) sizes.push(youngBytes());
    });
    assert.ok(sizes.length > 1, `the young generation grew again (${sizes[0]} bytes)`);
    // From 1 MiB with V8's own factor: 4, 8, 16, 32, 64, 128 MiB; with compactHeap's: 16 (at times 2
    // first, when V8 resizes it to twice what survived), then 128.
    const steps = sizes.slice(1).map((n, i) => n / sizes[i]!);
    assert.ok(Math.max(...steps) >= 8, `sizes ${sizes.join(', ')}: no step of 8 times`);
  });
});
