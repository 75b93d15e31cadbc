import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BUILD_MOVES,
  BUILD_STATUSES,
  FINAL_STATUSES,
  JOB_MOVES,
  JOB_STATUSES,
  canMoveBuild,
  canMoveJob,
  isFinal,
} from '../../../src/core/states.ts';

/** Every state reachable from `start` through `moves`. */
function reachable<S extends string>(start: S, moves: Readonly<Record<S, readonly S[]>>): Set<S> {
  const seen = new Set<S>([start]);
  for (const s of seen) for (const next of moves[s]) seen.add(next);
  return seen;
}

describe('build and job states', () => {
  it('final states are exactly those with no way out', () => {
    for (const s of JOB_STATUSES) assert.equal(JOB_MOVES[s].length === 0, isFinal(s), s);
    for (const s of BUILD_STATUSES) assert.equal(BUILD_MOVES[s].length === 0, isFinal(s), s);
    assert.deepEqual(
      JOB_STATUSES.filter((s) => isFinal(s)),
      [...FINAL_STATUSES],
    );
  });

  it('every state is reachable: a job from pending, a build from pending-approval (a fork) or queued', () => {
    assert.deepEqual([...reachable('pending', JOB_MOVES)].toSorted(), [...JOB_STATUSES].toSorted());
    assert.deepEqual(
      [...reachable('pending-approval', BUILD_MOVES)].toSorted(),
      [...BUILD_STATUSES].toSorted(),
    );
    assert.ok(!reachable('queued', BUILD_MOVES).has('pending-approval'), 'approval is never asked again');
  });

  it('a build waiting for approval can only be approved or cancelled', () => {
    assert.deepEqual(BUILD_MOVES['pending-approval'], ['queued', 'canceled']);
  });

  it('a job succeeds or fails only after it ran, and never goes back to waiting', () => {
    assert.ok(canMoveJob('running', 'success'));
    assert.ok(!canMoveJob('queued', 'success'));
    assert.ok(!canMoveJob('queued', 'failure'));
    assert.ok(!canMoveJob('running', 'queued'));
    assert.ok(!canMoveJob('running', 'pending'));
    assert.ok(canMoveJob('running', 'running'), 'a new attempt after a worker died');
    assert.ok(!canMoveBuild('running', 'queued'));
    assert.ok(!canMoveBuild('success', 'running'));
  });
});
