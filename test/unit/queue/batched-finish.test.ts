import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { batchedFinish } from '../../../src/queue/batched-finish.ts';
import { withScripts, type ScriptRedis } from '../../../src/queue/scripts.ts';
import { startRedis, type TestRedis } from '../../helpers/redis.ts';

const until = async (what: string, ok: () => Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('batchedFinish: the jobs that end in one turn finish in one Redis call', () => {
  let redis: TestRedis;
  let client: ScriptRedis;
  /** How many jobs each pushciFinishJobs call finished. */
  const batches: number[] = [];
  before(async () => {
    redis = await startRedis();
    client = withScripts(new Redis(redis.url, { maxRetriesPerRequest: null }));
    const finish = client.pushciFinishJobs.bind(client);
    client.pushciFinishJobs = (numKeys: number, ...rest: Array<string | Buffer>) => {
      batches.push(numKeys / 14);
      return finish(numKeys, ...rest);
    };
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  /** Runs 30 jobs through a worker (batched or BullMQ's own) and returns what Redis holds after. */
  const run = async (name: string, batched: boolean) => {
    const queue = new Queue(name, { connection: client, prefix: redis.prefix });
    await queue.addBulk(
      Array.from({ length: 30 }, (_, i) => ({
        name: 'm',
        data: { i },
        opts: { jobId: `j${i}`, attempts: 3, removeOnComplete: { age: 3600, count: 20 } },
      })),
    );
    const process = async (job: Job) => ({ got: job.data.i });
    const opts = { connection: client, prefix: redis.prefix, concurrency: 8 };
    const worker = batched
      ? new Worker(name, process, opts, batchedFinish(client))
      : new Worker(name, process, opts);
    await until(
      'every job completed',
      async () =>
        (await queue.getJobCounts('completed')).completed === 20 &&
        (await queue.getJobCounts('wait')).wait === 0 &&
        (await queue.getJobCounts('active')).active === 0,
    );
    await worker.close();
    const k = (s: string) => `${redis.prefix}:${name}:${s}`;
    const kept = await client.zrange(k('completed'), '0', '-1');
    const hashes = await Promise.all(kept.map((id) => client.hgetall(k(id))));
    const events = (await client.xrange(k('events'), '-', '+')).map(([, f]) => f[1]!);
    await queue.obliterate({ force: true });
    await queue.close();
    return { kept, hashes, events };
  };

  it('writes what BullMQ’s own finish writes, job by job, and claims the next jobs as it does', async () => {
    const theirs = await run('plain', false);
    batches.length = 0;
    const ours = await run('batched', true);
    assert.ok(batches.length > 0 && batches.some((n) => n > 1), `finished in batches: ${batches.join(',')}`);
    assert.equal(
      batches.reduce((a, b) => a + b, 0),
      30,
      'every job finished through the batch script once',
    );
    assert.equal(ours.kept.length, 20, 'the 20 newest kept (removeOnComplete), the rest removed');
    assert.equal(theirs.kept.length, 20);
    const fields = Object.keys(theirs.hashes[0]!).toSorted();
    for (const [i, h] of ours.hashes.entries()) {
      assert.deepEqual(Object.keys(h).toSorted(), fields, 'the same fields as BullMQ’s own finish writes');
      assert.deepEqual(JSON.parse(h.returnvalue!), { got: Number(ours.kept[i]!.slice(1)) });
      assert.equal(h.atm, '1');
      assert.equal(h.ats, '1');
      assert.match(h.finishedOn!, /^\d+$/);
    }
    const count = (events: string[]) =>
      Object.fromEntries([...new Set(events)].map((e) => [e, events.filter((x) => x === e).length]));
    assert.deepEqual(count(ours.events).completed, 30);
    assert.deepEqual(count(ours.events).active, 30);
    assert.deepEqual(count(ours.events), count(theirs.events), 'the same events');
  });

  it('gives a job whose finish fails its own error; the others of its batch finish', async () => {
    const name = 'lost-lock';
    const queue = new Queue(name, { connection: client, prefix: redis.prefix });
    await queue.addBulk(
      Array.from({ length: 6 }, (_, i) => ({ name: 'm', data: { i }, opts: { jobId: `j${i}` } })),
    );
    const errors: string[] = [];
    let started = 0;
    let go!: () => void;
    const gate = new Promise<void>((r) => (go = r));
    batches.length = 0;
    const worker = new Worker(
      name,
      async (job: Job) => {
        if (++started === 6) go();
        await gate;
        // Another worker took this one over (its lock is gone): BullMQ refuses to finish it.
        if (job.id === 'j3') await client.del(`${redis.prefix}:${name}:j3:lock`);
        return 'ok';
      },
      { connection: client, prefix: redis.prefix, concurrency: 6 },
      batchedFinish(client),
    );
    worker.on('error', (err) => errors.push(err.message));
    await until('five jobs completed', async () => (await queue.getJobCounts('completed')).completed === 5);
    await until('the lost job’s error', async () => errors.some((e) => /Missing lock for job j3/.test(e)));
    assert.ok(
      batches.some((n) => n > 1),
      `finished in batches: ${batches.join(',')}`,
    );
    assert.equal(await queue.getJobState('j3'), 'active', 'not finished by a worker that lost it');
    await worker.close(true);
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it('a killed worker’s jobs, claimed by the batched finish, are delivered again by another worker', async () => {
    const name = 'killed';
    const queue = new Queue(name, { connection: client, prefix: redis.prefix });
    await queue.addBulk(
      Array.from({ length: 12 }, (_, i) => ({ name: 'm', data: { i }, opts: { jobId: `j${i}` } })),
    );
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, '../../fixtures/workers/batched-finish-worker.ts'),
        redis.url,
        redis.prefix,
        name,
        '6',
      ],
      { stdio: 'inherit' },
    );
    const exited = new Promise((r) => child.on('exit', r));
    await until('6 finished and 4 held', async () => {
      const c = await queue.getJobCounts('completed', 'active');
      return c.completed === 6 && c.active === 4;
    });
    child.kill('SIGKILL');
    await exited;
    const held = await queue.getJobs(['active']);

    const heldIds = held.map((j) => j.id!).toSorted();
    // Held jobs that came after a finish were claimed by it, not by BullMQ's own fetch.
    assert.ok(
      heldIds.every((id) => Number(id.slice(1)) >= 4),
      heldIds.join(','),
    );
    const seen: string[] = [];
    const worker = new Worker(
      name,
      async (job: Job) => {
        seen.push(job.id!);
        return 'again';
      },
      { connection: client, prefix: redis.prefix, concurrency: 4, stalledInterval: 500, lockDuration: 2000 },
      batchedFinish(client),
    );
    await until('all 12 completed', async () => {
      return (await queue.getJobCounts('completed')).completed === 12;
    });
    await worker.close();
    for (const id of heldIds) {
      assert.ok(seen.includes(id), `${id} delivered again`);
      assert.equal((await queue.getJob(id))?.returnvalue, 'again');
    }
    await queue.obliterate({ force: true });
    await queue.close();
  });
});
