import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { InvalidTransitionError } from '../../src/errors.ts';
import { loadPipelineSource } from '../../src/pipelines/load-pipeline-source.ts';
import { keys } from '../../src/queue/keys.ts';
import { BuildStore } from '../../src/queue/store.ts';
import { newBuild, webPipeline } from '../helpers/builds.ts';
import { suiteRedis } from '../helpers/suite-redis.ts';

describe('the build store writes states only along the transition table', () => {
  const db = suiteRedis();
  let store: BuildStore;
  before(async () => {
    store = new BuildStore(db.client, keys(db.redis.prefix));
  });

  /** A stored build of one job, `build`, still pending. */
  const stored = async () => {
    const b = newBuild(webPipeline('echo hi'));
    const created = await store.create([{ ...b, jobStatus: { build: 'pending' } }]);
    assert.ok(created.created);
    return b.meta.id;
  };

  it("an attempt's end moves the job, and counts its duration, only while that attempt is the job's current one", async () => {
    const id = await stored();
    assert.ok((await store.moveJob(id, 'build', ['pending'], 'queued')).ok);
    const state = (attempt: number) => ({
      attempt,
      exit_code: null,
      reason: null,
      started_at: `t${attempt}`,
      finished_at: null,
    });
    assert.ok((await store.startJob(id, 'build', ['queued'], state(1), 't1')).ok);
    assert.ok((await store.startJob(id, 'build', ['running'], state(2), 't2')).ok);
    const histogram = async () => db.client.hgetall(keys(db.redis.prefix).stats('jobs'));
    const before = await histogram();
    const late = await store.moveAttempt(id, 'build', 1, ['running'], 'success', state(1), 3);
    assert.equal(late.ok, false, 'attempt 1 no longer has the job');
    assert.deepEqual(await histogram(), before, 'the late attempt counted no duration');
    assert.equal(late.record?.jobs.get('build')?.status, 'running');
    assert.equal(late.record?.jobs.get('build')?.attempt, 2);
    assert.equal(late.record?.jobs.get('build')?.started_at, 't2');
    const current = await store.moveAttempt(id, 'build', 2, ['running'], 'failure', state(2), 3.5);
    assert.equal(current.ok, true);
    assert.equal(current.record?.jobs.get('build')?.status, 'failure');
    const after = await histogram();
    assert.equal(Number(after.count ?? 0), Number(before.count ?? 0) + 1);
    assert.equal(Number(after['le:5'] ?? 0), Number(before['le:5'] ?? 0) + 1, 'in the bucket of up to 5 s');
    assert.equal(Number(after.sum ?? 0), Number(before.sum ?? 0) + 3.5);
  });

  it("a build's last job ends it in the same step, only while no cancel was asked for and the other jobs hold the statuses its result came from", async () => {
    const { pipeline } = loadPipelineSource(
      'two.yml',
      Buffer.from(
        'name: two\nrepository: octo-org/web\non: push\njobs:\n  a:\n    steps:\n      - run: "true"\n  b:\n    steps:\n      - run: "true"\n',
      ),
      {},
    );
    assert.ok(pipeline);
    const state = { attempt: 1, exit_code: null, reason: null, started_at: 't1', finished_at: null };
    const done = { ...state, exit_code: 1, finished_at: 't2' };
    /** A running build whose job `b` is final (`bStatus`) and whose job `a` runs. */
    const running = async (bStatus: 'skipped' | 'error') => {
      const b = newBuild(pipeline);
      assert.ok((await store.create([{ ...b, jobStatus: { a: 'queued', b: 'queued' } }])).created);
      const id = b.meta.id;
      assert.ok((await store.startJob(id, 'a', ['queued'], state, 't1')).buildMoved);
      assert.ok((await store.moveJob(id, 'b', ['queued'], bStatus, state)).ok);
      return id;
    };
    const end = {
      status: 'failure' as const,
      from: ['running' as const],
      reason: 'job a failed (exit code 1)',
      finished_at: 't2',
      others: { b: 'skipped' as const },
    };

    const id = await running('skipped');
    const moved = await store.moveAttempt(id, 'a', 1, ['running'], 'failure', done, 1, end);
    assert.equal(moved.ok, true);
    assert.equal(moved.buildEnded, true);
    assert.equal(moved.record?.status, 'failure');
    assert.equal(moved.record?.reason, 'job a failed (exit code 1)');
    assert.equal(moved.record?.finished_at, 't2');
    assert.equal(moved.record?.started_at, 't1', 'a build that had started keeps its start');
    assert.equal(moved.record?.jobs.get('a')?.status, 'failure');
    assert.equal(moved.beforeEnd?.status, 'running', 'the record between the two moves');
    assert.equal(moved.beforeEnd?.finished_at, null);
    assert.equal(moved.beforeEnd?.reason, null);
    assert.equal(moved.beforeEnd?.jobs.get('a')?.status, 'failure');
    const again = await store.moveAttempt(id, 'a', 1, ['running'], 'failure', done, 1, end);
    assert.equal(again.ok, false, 'the job had ended');
    assert.equal(again.buildEnded, false);

    const otherMoved = await running('error');
    const stale = await store.moveAttempt(otherMoved, 'a', 1, ['running'], 'failure', done, 1, end);
    assert.equal(stale.ok, true, 'the job moves');
    assert.equal(stale.buildEnded, false, 'job b is not what the result was computed from');
    assert.equal(stale.record?.status, 'running');

    const cancelled = await running('skipped');
    assert.ok(await store.requestCancel(cancelled, 'stop it'));
    const asked = await store.moveAttempt(cancelled, 'a', 1, ['running'], 'failure', done, 1, end);
    assert.equal(asked.ok, true);
    assert.equal(asked.buildEnded, false, "a cancel's reason is the build's: the caller ends it");
    assert.equal(asked.record?.status, 'running');
    assert.equal(asked.beforeEnd, null);
  });

  it('moves a job and a build along allowed moves, and a lost compare-and-set changes nothing', async () => {
    const id = await stored();
    assert.equal((await store.moveJob(id, 'build', ['pending'], 'queued')).ok, true);
    const lost = await store.moveJob(id, 'build', ['pending'], 'queued');
    assert.equal(lost.ok, false, 'no longer pending');
    assert.equal(lost.record?.jobs.get('build')?.status, 'queued');
    const details = { attempt: 1, exit_code: null, reason: null, started_at: 'x', finished_at: null };
    const ran = await store.moveJob(id, 'build', ['queued'], 'running', details);
    assert.equal(ran.record?.jobs.get('build')?.attempt, 1, 'details written with the state');
    const b = await store.moveBuild(id, ['queued'], 'running', { started_at: 'x', reason: null });
    assert.equal(b.record?.status, 'running');
  });

  it('starts a job and its queued build in one step; not the build once a cancel was asked for, not a job that moved on', async () => {
    const details = { attempt: 1, exit_code: null, reason: null, started_at: 't1', finished_at: null };
    const id = await stored();
    await store.moveJob(id, 'build', ['pending'], 'queued');
    await store.setWaitingReason(id, 'waiting for its concurrency group');
    const first = await store.startJob(id, 'build', ['queued', 'running'], details, 't1');
    assert.equal(first.ok, true);
    assert.equal(first.buildMoved, true);
    assert.equal(first.record?.jobs.get('build')?.status, 'running');
    assert.equal(first.record?.jobs.get('build')?.started_at, 't1');
    assert.equal(first.record?.status, 'running');
    assert.equal(first.record?.started_at, 't1');
    assert.equal(first.record?.reason, null, 'the waiting reason is cleared');
    // A second attempt of the job (its worker died): the job moves again, the build stays as it is.
    const again = await store.startJob(id, 'build', ['queued', 'running'], { ...details, attempt: 2 }, 't2');
    assert.equal(again.ok, true);
    assert.equal(again.buildMoved, false);
    assert.equal(again.record?.started_at, 't1');

    const canceled = await stored();
    await store.moveJob(canceled, 'build', ['pending'], 'queued');
    await store.requestCancel(canceled, 'stop');
    const c = await store.startJob(canceled, 'build', ['queued'], details, 't1');
    assert.equal(c.ok, true, 'the job moves (its worker then ends it as canceled)');
    assert.equal(c.buildMoved, false);
    assert.equal(c.record?.status, 'queued');

    const pending = await stored();
    const p = await store.startJob(pending, 'build', ['queued'], details, 't1');
    assert.equal(p.ok, false, 'a pending job does not start');
    assert.equal(p.buildMoved, false);
    assert.equal((await store.get(pending))?.status, 'queued');
  });

  it('refuses a move the table does not list, and writes nothing', async () => {
    const id = await stored();
    await assert.rejects(store.moveJob(id, 'build', ['pending'], 'success'), InvalidTransitionError);
    await assert.rejects(store.moveJob(id, 'build', ['queued'], 'failure'), InvalidTransitionError);
    await assert.rejects(store.moveBuild(id, ['success'], 'running', {}), InvalidTransitionError);
    const r = await store.get(id);
    assert.equal(r?.jobs.get('build')?.status, 'pending');
    assert.equal(r?.status, 'queued');
  });

  it('the first cancel request wins', async () => {
    const id = await stored();
    assert.equal(await store.requestCancel(id, 'first', 'newer'), true);
    assert.equal(await store.requestCancel(id, 'second'), false);
    const r = await store.get(id);
    assert.equal(r?.cancelReason, 'first');
    assert.equal(r?.supersededBy, 'newer');
  });
});
