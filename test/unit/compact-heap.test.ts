import assert from 'node:assert/strict';
import { getHeapSpaceStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import { compactHeap } from '../../src/compact-heap.ts';

const youngBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

describe('compactHeap', () => {
  it('gives back the young generation that start-up grew, without leaving gc() reachable', () => {
    // Objects that survive a few scavenges make V8 grow the young generation, as module loading does.
    let keep: object[] = [];
    for (let i = 0; i < 3_000_000; i++) {
      keep.push({ i, s: `x${i}` });
      if (keep.length > 200_000) keep = [];
    }
    keep = [];
    const grown = youngBytes();
    assert.ok(grown >= 8 * 2 ** 20, `the young generation grew to ${grown} bytes`);
    const r = compactHeap();
    assert.ok(youngBytes() < grown / 2, `young generation ${grown} -> ${youngBytes()} bytes`);
    assert.ok(r.freedBytes > 0 && r.ms >= 0);
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
    assert.equal(runInNewContext('typeof gc'), 'undefined');
  });
});
