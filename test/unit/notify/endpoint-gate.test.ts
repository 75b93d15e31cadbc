import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEndpointGate, type EndpointPlace } from '../../../src/notify/endpoint-gate.ts';

const placed = (p: EndpointPlace | { waitMs: number }): EndpointPlace => {
  assert.ok(!('waitMs' in p), 'expected a place');
  return p;
};
const waits = (p: EndpointPlace | { waitMs: number }): number => {
  assert.ok('waitMs' in p, 'expected to wait');
  return p.waitMs;
};

describe('endpoint gate', () => {
  it('gives a new endpoint at most `limit` places, and the others theirs', () => {
    const gate = createEndpointGate(2, 16, 15_000, () => 0.5);
    const a1 = placed(gate.enter('a', 1000));
    placed(gate.enter('a', 1000));
    assert.equal(waits(gate.enter('a', 1100)), 250, 'in flight for 100 ms: the shortest wait');
    placed(gate.enter('b', 1100));
    a1.leave(1200);
    placed(gate.enter('a', 1200));
  });

  it('frees a cancelled place without counting it as an attempt', () => {
    const gate = createEndpointGate(1, 16, 15_000, () => 0.5);
    placed(gate.enter('slow', 0)).leave(3000);
    placed(gate.enter('slow', 3000)).cancel();
    const again = placed(gate.enter('slow', 3000));
    // Its attempts still count as taking 3 s: the cancelled place taught the gate nothing.
    assert.equal(waits(gate.enter('slow', 3100)), 3000);
    again.leave(3200);
  });

  it('lets an endpoint that answers quickly use all slots but `limit`, and takes that back when it slows', () => {
    const gate = createEndpointGate(4, 16, 15_000, () => 0.5);
    placed(gate.enter('fast', 0)).leave(20);
    const held = Array.from({ length: 12 }, () => placed(gate.enter('fast', 100)));
    assert.equal(waits(gate.enter('fast', 120)), 250, 'the 13th waits: 4 slots stay for the others');
    for (const p of held.slice(0, 8)) p.leave(130);
    // The four still in flight have taken over a second: the endpoint now counts as slow.
    assert.equal(waits(gate.enter('fast', 1500)), 1400);
    for (const p of held.slice(8)) p.leave(1600);
    placed(gate.enter('fast', 1600));
  });

  it('makes messages wait about as long as a slow endpoint’s attempts take, up to the timeout', () => {
    const gate = createEndpointGate(1, 16, 15_000, () => 0.5);
    placed(gate.enter('slow', 0));
    assert.equal(waits(gate.enter('slow', 4000)), 4000, 'the attempt in flight has taken 4 s');
    assert.equal(waits(gate.enter('slow', 60_000)), 15_000, 'never longer than the timeout');
    const gate2 = createEndpointGate(1, 16, 15_000, () => 0);
    placed(gate2.enter('x', 0));
    assert.equal(waits(gate2.enter('x', 1000)), 800, '-20% jitter');
  });

  it('makes a message that already waited wait twice as long each time, up to the timeout', () => {
    const gate = createEndpointGate(1, 16, 15_000, () => 0.5);
    placed(gate.enter('hangs', 0));
    assert.equal(waits(gate.enter('hangs', 100, 0)), 250);
    assert.equal(waits(gate.enter('hangs', 100, 1)), 500);
    assert.equal(waits(gate.enter('hangs', 100, 3)), 2000);
    assert.equal(waits(gate.enter('hangs', 100, 9)), 15_000);
  });

  it('spreads the messages set aside for a slow endpoint while none of its attempts ends over its rounds', () => {
    const gate = createEndpointGate(4, 64, 15_000, () => 0.5);
    const held = Array.from({ length: 4 }, () => placed(gate.enter('hangs', 0)));
    const young = Array.from({ length: 12 }, () => waits(gate.enter('hangs', 100)));
    assert.deepEqual(young, Array(12).fill(250), 'a new endpoint may yet answer at once: no spread');
    const first = Array.from({ length: 8 }, () => waits(gate.enter('hangs', 1000)));
    // 12 set aside already: 4 rounds ahead, then 5.
    assert.deepEqual(first, [4000, 4000, 4000, 4000, 5000, 5000, 5000, 5000]);
    const later = Array.from({ length: 400 }, () => waits(gate.enter('hangs', 1100)));
    assert.equal(later.at(-1), 15_000, 'a long backlog waits as long as an attempt may take');
    held[0]!.leave(1500);
    placed(gate.enter('hangs', 1500));
    assert.equal(waits(gate.enter('hangs', 1500)), 1500, 'an attempt ended: the backlog moved');
    placed(gate.enter('other', 1500));
  });
});
