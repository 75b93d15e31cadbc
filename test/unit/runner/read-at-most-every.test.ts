import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readAtMostEvery } from '../../../src/runner/backends/sandbox/read-at-most-every.ts';

describe('readAtMostEvery', () => {
  it('reads once, keeps the value for its age, then reads again', async () => {
    let reads = 0;
    const get = readAtMostEvery(50, () => ++reads);
    assert.equal(get(), 1);
    assert.equal(get(), 1);
    assert.equal(reads, 1);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(get(), 2);
    assert.equal(get(), 2);
  });
});
