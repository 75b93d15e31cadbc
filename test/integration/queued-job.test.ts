import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { keys, type Keys } from '../../src/queue/keys.ts';
import { queueJobOptions, type JobRef } from '../../src/queue/queued-job.ts';
import { BuildStore } from '../../src/queue/store.ts';
import { newBuild, webPipeline } from '../helpers/builds.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';

const def = webPipeline('make');
const build = (queueNow = ['build']) => newBuild(def, { queueNow, announce: true });

describe('the intake stores builds and queues their jobs in one script', () => {
  let redis: TestRedis;
  let client: Redis;
  let k: Keys;
  let jobs: Queue;
  let store: BuildStore;
  before(async () => {
    // Private: the test counts the script calls Redis saw.
    redis = await startRedis({ private: true });
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    k = keys(redis.prefix);
    jobs = new Queue('jobs', { connection: client, prefix: redis.prefix });
    store = new BuildStore(client, k, jobs.keys);
  });
  after(async () => {
    await jobs?.close();
    client?.disconnect();
    await redis?.stop();
  });

  it('writes exactly what Queue.add writes for the same job', async () => {
    const ours = build();
    const r = await store.create([ours]);
    assert.equal(r.created, true);
    const theirsId = newBuild(def).meta.id; // an id only: this job goes through Queue.add
    await jobs.add(
      'build',
      { buildId: theirsId, job: 'build' } satisfies JobRef,
      queueJobOptions(theirsId, 'build'),
    );

    const [a, b] = await Promise.all([
      client.hgetall(`${redis.prefix}:jobs:${ours.meta.id}.build`),
      client.hgetall(`${redis.prefix}:jobs:${theirsId}.build`),
    ]);
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
    assert.equal(a.name, b.name);
    assert.equal(a.delay, b.delay);
    assert.equal(a.priority, b.priority);
    assert.deepEqual(JSON.parse(a.data!), { buildId: ours.meta.id, job: 'build' });
    assert.deepEqual(
      { ...JSON.parse(a.opts!), jobId: 'x' },
      { ...JSON.parse(b.opts!), jobId: 'x' },
      'the same options but the id',
    );
    assert.equal(JSON.parse(a.opts!).jobId, `${ours.meta.id}.build`);
    assert.match(a.timestamp!, /^\d+$/, 'milliseconds, as BullMQ writes them');
    assert.ok(Math.abs(Number(a.timestamp) - Number(b.timestamp)) < 60_000);
    // Both wait in the same list, with the same events, and BullMQ counts them alike.
    assert.deepEqual(await client.lrange(`${redis.prefix}:jobs:wait`, 0, -1), [
      `${theirsId}.build`,
      `${ours.meta.id}.build`,
    ]);
    const events = (await client.xrange(`${redis.prefix}:jobs:events`, '-', '+')).map(([, f]) => f.join(' '));
    for (const id of [`${ours.meta.id}.build`, `${theirsId}.build`]) {
      assert.ok(events.includes(`event added jobId ${id} name build`), events.join('\n'));
      assert.ok(events.includes(`event waiting jobId ${id}`));
    }
    assert.equal((await jobs.getJobCounts('wait')).wait, 2);
    await jobs.drain();
  });

  it('queues the jobs of one call as Queue.add queues them one by one, and wakes no worker of a paused queue', async () => {
    const q = (name: string) => `${redis.prefix}:jobs:${name}`;
    await jobs.drain();
    const counter = Number((await client.get(q('id'))) ?? 0);
    const events = await client.xlen(q('events'));
    const builds = [build(), build(), build()];
    // One call (one event-loop turn), as Queue.add would have been called for each in this order.
    const results = await Promise.all(builds.map((b) => store.create([b])));
    assert.ok(results.every((r) => r.created));
    const ids = builds.map((b) => `${b.meta.id}.build`);
    assert.deepEqual(await client.lrange(q('wait'), 0, -1), [...ids].reverse(), 'LPUSHed in order');
    assert.equal(Number(await client.get(q('id'))), counter + 3, 'the id counter moved once per job');
    const added = (await client.xrange(q('events'), '-', '+')).slice(events).map(([, f]) => f.join(' '));
    assert.deepEqual(
      added,
      ids.flatMap((id) => [`event added jobId ${id} name build`, `event waiting jobId ${id}`]),
    );
    assert.equal(await client.zscore(q('marker'), '0'), '0', 'workers are woken');
    await jobs.drain();

    await jobs.pause();
    await client.del(q('marker'));
    const held = build();
    assert.ok((await store.create([held])).created);
    assert.deepEqual(await client.lrange(q('wait'), 0, -1), [`${held.meta.id}.build`]);
    assert.equal(await client.exists(q('marker')), 0, 'a paused queue gets no marker, as with Queue.add');
    await jobs.resume();
    await jobs.drain();
  });

  it('hands the job to a BullMQ worker with its data and options', async () => {
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    let resolve!: (job: Job<JobRef>) => void;
    const got = new Promise<Job<JobRef>>((r) => (resolve = r));
    const worker = new Worker<JobRef>('jobs', async (job) => resolve(job), {
      connection,
      prefix: redis.prefix,
    });
    try {
      const b = build();
      await store.create([b]);
      const job = await got;
      assert.equal(job.id, `${b.meta.id}.build`);
      assert.deepEqual(job.data, { buildId: b.meta.id, job: 'build' });
      assert.equal(job.opts.attempts, 1);
      assert.equal(job.opts.removeOnComplete, true);
    } finally {
      await worker.close();
      connection.disconnect();
    }
  });

  it('stores concurrent deliveries in one script call, each with its own result', async () => {
    await store.create([build([])]); // the script is loaded
    await client.config('RESETSTAT');
    const seen = (id: string, value: string) => ({ key: `${k.prefix}:seen:${id}`, value, ttlMs: 60_000 });
    const fresh = Array.from({ length: 20 }, () => build());
    const results = await Promise.all([
      ...fresh.map((b) => store.create([b], seen(b.meta.delivery_id, `first ${b.meta.id}`))),
      // The same delivery as the first, received again in the same instant: it creates nothing.
      store.create([build()], seen(fresh[0]!.meta.delivery_id, 'second')),
    ]);
    const stats = await client.info('commandstats');
    assert.match(stats, /cmdstat_evalsha:calls=1,/, 'one round trip for the batch');
    const created = results.slice(0, 20);
    assert.ok(created.every((r) => r.created));
    const numbers = created.map((r) => (r.created ? r.numbers[0] : -1));
    assert.equal(new Set(numbers).size, 20, 'every build its own number');
    assert.deepEqual(results[20], { created: false, seen: `first ${fresh[0]!.meta.id}`, replay: false });
    assert.equal((await jobs.getJobCounts('wait')).wait, 20, 'one queued job per created build');
    await jobs.drain();
  });

  it('creates nothing for a known body under a new delivery id, and keeps no record of that id', async () => {
    const body = { key: `${k.prefix}:seen-body:test`, ttlMs: 60_000 };
    // One delivery: its id's key and value, its body's key (the same for every delivery here).
    const send = (id: string, value: string) =>
      store.create([build()], { key: `${k.prefix}:seen:${id}`, value, ttlMs: 60_000, body });
    assert.ok((await send('a', 'first')).created);
    const replay = await send('b', 'replay');
    assert.deepEqual(replay, { created: false, seen: 'first', replay: true });
    assert.equal(await client.exists(`${k.prefix}:seen:b`), 0, 'the replayed id is not remembered');
    // Control: the same id again is a redelivery, answered from the id's record.
    const again = await send('a', 'again');
    assert.deepEqual(again, { created: false, seen: 'first', replay: false });
    assert.equal((await jobs.getJobCounts('wait')).wait, 1, 'one queued job: the first build only');
    await jobs.drain();
  });

  it('publishes each new build for the dashboards with its number', async () => {
    const sub = new Redis(redis.url);
    const messages: string[] = [];
    await sub.subscribe(k.eventsChannel);
    sub.on('message', (_c: string, m: string) => messages.push(m));
    const b = build();
    const r = await store.create([b]);
    assert.ok(r.created);
    for (let i = 0; i < 100 && messages.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(JSON.parse(messages[0]!), {
      type: 'build.queued',
      id: b.meta.id,
      pipeline: 'web',
      status: 'queued',
      number: r.numbers[0],
    });
    sub.disconnect();
    await jobs.drain();
  });
});
