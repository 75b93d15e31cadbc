import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { InvalidTransitionError } from '../../src/errors.ts';
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
