import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { newBuildId } from '../../src/builds/ids.ts';
import { InvalidTransitionError } from '../../src/errors.ts';
import type { Pipeline } from '../../src/pipelines/pipeline.ts';
import { keys } from '../../src/queue/keys.ts';
import { BuildStore } from '../../src/queue/store.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';

describe('the build store writes states only along the transition table', () => {
  let redis: TestRedis;
  let client: Redis;
  let store: BuildStore;
  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    store = new BuildStore(client, keys(redis.prefix));
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  const newBuild = async () => {
    const id = newBuildId();
    const def = {
      name: 'web',
      jobs: [{ name: 'a', needs: [], steps: [{ run: 'true' }] }],
    } as unknown as Pipeline;
    const created = await store.create([
      {
        meta: {
          id,
          pipeline: 'web',
          forge: 'github',
          repository: 'octo-org/web',
          ref: 'refs/heads/main',
          branch: 'main',
          tag: null,
          sha: 'a'.repeat(40),
          before: '0'.repeat(40),
          message: null,
          pusher: null,
          delivery_id: id,
          event: 'push',
          rerun_of: null,
          original_event: 'push',
          pull_request: null,
          cron: null,
          inputs: {},
          created_at: new Date().toISOString(),
        },
        def,
        status: 'queued',
        reason: null,
        jobStatus: { a: 'pending' },
        group: null,
        queueNow: [],
        announce: null,
      },
    ]);
    assert.ok(created.created);
    return id;
  };

  it('moves a job and a build along allowed moves, and a lost compare-and-set changes nothing', async () => {
    const id = await newBuild();
    assert.equal((await store.moveJob(id, 'a', ['pending'], 'queued')).ok, true);
    const lost = await store.moveJob(id, 'a', ['pending'], 'queued');
    assert.equal(lost.ok, false, 'no longer pending');
    assert.equal(lost.record?.jobs.get('a')?.status, 'queued');
    const details = { attempt: 1, exit_code: null, reason: null, started_at: 'x', finished_at: null };
    const ran = await store.moveJob(id, 'a', ['queued'], 'running', details);
    assert.equal(ran.record?.jobs.get('a')?.attempt, 1, 'details written with the state');
    const b = await store.moveBuild(id, ['queued'], 'running', { started_at: 'x', reason: null });
    assert.equal(b.record?.status, 'running');
  });

  it('refuses a move the table does not list, and writes nothing', async () => {
    const id = await newBuild();
    await assert.rejects(store.moveJob(id, 'a', ['pending'], 'success'), InvalidTransitionError);
    await assert.rejects(store.moveJob(id, 'a', ['queued'], 'failure'), InvalidTransitionError);
    await assert.rejects(store.moveBuild(id, ['success'], 'running', {}), InvalidTransitionError);
    const r = await store.get(id);
    assert.equal(r?.jobs.get('a')?.status, 'pending');
    assert.equal(r?.status, 'queued');
  });

  it('the first cancel request wins', async () => {
    const id = await newBuild();
    assert.equal(await store.requestCancel(id, 'first', 'newer'), true);
    assert.equal(await store.requestCancel(id, 'second'), false);
    const r = await store.get(id);
    assert.equal(r?.cancelReason, 'first');
    assert.equal(r?.supersededBy, 'newer');
  });
});
