import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEndpointBreaker } from '../../../src/notify/endpoint-breaker.ts';

const make = () => createEndpointBreaker({ threshold: 3, minMs: 1000, maxMs: 4000, probeMs: 500 }, () => 0);

describe('endpoint breaker', () => {
  it('stays closed through failures short of the threshold, and a success starts the count again', () => {
    const b = make();
    assert.equal(b.failure('a', 0), null);
    assert.equal(b.failure('a', 0), null);
    assert.equal(b.success('a'), null, 'closed: nothing to tell');
    assert.equal(b.failure('a', 0), null);
    assert.equal(b.failure('a', 0), null);
    assert.deepEqual(b.check('a', 0), { send: true, probe: false });
  });

  it('opens after `threshold` failures in a row: messages are kept until the period ends, others go on', () => {
    const b = make();
    b.failure('dead', 0);
    b.failure('dead', 0);
    assert.deepEqual(b.failure('dead', 10), { endpoint: 'dead', openUntil: 1010 });
    const kept = b.check('dead', 500);
    assert.equal(kept.send, false);
    assert.ok(!kept.send && kept.untilMs >= 1010);
    assert.deepEqual(b.check('live', 500), { send: true, probe: false }, 'another endpoint is not held');
    // Attempts already in flight when it opened fail too: they do not push it further out.
    assert.equal(b.failure('dead', 600), null);
    assert.equal(b.check('dead', 900).send, false);
  });

  it('lets one probe through when the period ends; a failed probe opens it for twice as long', () => {
    const b = make();
    for (let i = 0; i < 3; i++) b.failure('dead', 0);
    assert.deepEqual(b.check('dead', 1000), { send: true, probe: true });
    assert.equal(b.check('dead', 1001).send, false, 'one probe at a time');
    assert.deepEqual(b.failure('dead', 1100), { endpoint: 'dead', openUntil: 3100 });
    assert.deepEqual(b.check('dead', 3100), { send: true, probe: true });
    assert.deepEqual(b.failure('dead', 3200), { endpoint: 'dead', openUntil: 7200 });
    assert.deepEqual(b.check('dead', 7200), { send: true, probe: true });
    assert.deepEqual(b.failure('dead', 7300), { endpoint: 'dead', openUntil: 11_300 }, 'capped at maxMs');
  });

  it('closes on a successful probe, and the kept messages go', () => {
    const b = make();
    for (let i = 0; i < 3; i++) b.failure('back', 0);
    assert.deepEqual(b.check('back', 1000), { send: true, probe: true });
    assert.deepEqual(b.success('back'), { endpoint: 'back', openUntil: null });
    assert.deepEqual(b.check('back', 1001), { send: true, probe: false });
  });

  it('gives up a probe not heard of within probeMs, or abandoned, so another message can probe', () => {
    const b = make();
    for (let i = 0; i < 3; i++) b.failure('x', 0);
    assert.deepEqual(b.check('x', 1000), { send: true, probe: true });
    assert.equal(b.check('x', 1400).send, false);
    assert.deepEqual(b.check('x', 1500), { send: true, probe: true }, 'the first probe vanished');
    b.abandon('x');
    assert.deepEqual(b.check('x', 1501), { send: true, probe: true });
  });

  it('spreads the kept messages over the period after the probe', () => {
    const b = createEndpointBreaker({ threshold: 1, minMs: 1000, maxMs: 8000, probeMs: 500 }, () => 0.999);
    b.failure('d', 0);
    const kept = b.check('d', 10);
    // Opened for 1 s (until 1000); the next period would be 2 s: the kept messages come back by 2000.
    assert.ok(!kept.send && kept.untilMs > 1900 && kept.untilMs <= 2000, String(!kept.send && kept.untilMs));
  });
});
