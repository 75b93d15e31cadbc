import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { dropUnusedSnapshots } from '../../src/maintenance/retention.ts';
import type { Pipeline } from '../../src/pipelines/pipeline.ts';
import { keys } from '../../src/queue/keys.ts';
import { BuildStore } from '../../src/queue/store.ts';
import { newBuild, webPipeline } from '../helpers/builds.ts';
import { suiteRedis } from '../helpers/suite-redis.ts';

const build = (def: Pipeline, at?: number) => newBuild(def, at === undefined ? {} : { at });

describe('pipeline snapshots', () => {
  const db = suiteRedis();

  it('stores one snapshot per pipeline version and keeps each build on the version it was created from', async () => {
    const k = keys(`${db.redis.prefix}a`);
    const store = new BuildStore(db.client, k);
    const v1 = webPipeline('make test');
    const [a, b] = [build(v1), build(v1)];
    await store.create([a]);
    await store.create([b]);
    const v2 = webPipeline('make check');
    const c = build(v2);
    await store.create([c]);

    assert.equal((await db.client.keys(`${k.prefix}:def:*`)).length, 2, 'one snapshot per version');
    assert.equal(await db.client.hexists(k.build(a.meta.id), 'def'), 0, 'no inline copy in the build');
    // A fresh store (another process) reads them from Redis, not from a cache.
    const otherClient = new Redis(db.redis.url);
    const other = new BuildStore(otherClient, k);
    assert.equal((await other.get(a.meta.id))?.def.jobs[0]!.steps[0]!.run, 'make test');
    assert.equal((await other.get(b.meta.id))?.def.jobs[0]!.steps[0]!.run, 'make test');
    assert.equal((await other.get(c.meta.id))?.def.jobs[0]!.steps[0]!.run, 'make check');
    assert.deepEqual((await other.get(a.meta.id))?.def, JSON.parse(JSON.stringify(v1)));
    otherClient.disconnect();
  });

  it('stores the snapshot again when it vanished behind the store’s back', async () => {
    const k = keys(`${db.redis.prefix}b`);
    const store = new BuildStore(db.client, k);
    const v1 = webPipeline('make');
    await store.create([build(v1)]);
    const [key] = await db.client.keys(`${k.prefix}:def:*`);
    assert.ok(key);
    await db.client.del(key);
    const next = build(v1);
    const r = await store.create([next]);
    assert.equal(r.created, true);
    assert.equal(await db.client.exists(key), 1, 'the snapshot is back');
    assert.equal((await new BuildStore(db.client, k).get(next.meta.id))?.def.name, 'web');
  });

  it('still reads records written with the pipeline inline', async () => {
    const k = keys(`${db.redis.prefix}c`);
    const b = build(webPipeline('make'));
    await db.client.hset(k.build(b.meta.id), {
      meta: JSON.stringify(b.meta),
      def: JSON.stringify(b.def),
      status: 'queued',
      number: '7',
      's:build': 'queued',
    });
    const r = await new BuildStore(db.client, k).get(b.meta.id);
    assert.equal(r?.number, 7);
    assert.equal(r?.def.jobs[0]!.steps[0]!.run, 'make');
  });

  it('retention drops only the snapshots no stored build uses', async () => {
    const k = keys(`${db.redis.prefix}d`);
    const store = new BuildStore(db.client, k);
    const t = Date.now() - 10_000;
    const old = build(webPipeline('old'), t);
    const current = build(webPipeline('current'), t + 1000);
    const both = build(webPipeline('both'), t + 500);
    const bothAgain = build(both.def, t + 2000);
    for (const b of [old, both, current, bothAgain]) await store.create([b]);
    assert.equal(await db.client.zcard(k.snapshots), 3);

    // The two oldest builds go (as retention removes them), the snapshot only they used goes with them.
    for (const b of [old, both]) {
      await db.client.del(k.build(b.meta.id));
      await db.client.zrem(k.index, b.meta.id);
    }
    assert.equal(await dropUnusedSnapshots(db.client, k), 1);
    const fresh = new BuildStore(db.client, k);
    assert.equal((await fresh.get(current.meta.id))?.def.jobs[0]!.steps[0]!.run, 'current');
    assert.equal((await fresh.get(bothAgain.meta.id))?.def.jobs[0]!.steps[0]!.run, 'both');
    assert.equal(await db.client.zcard(k.snapshots), 2);

    // No builds at all: nothing uses any snapshot.
    for (const b of [current, bothAgain]) await db.client.zrem(k.index, b.meta.id);
    assert.equal(await dropUnusedSnapshots(db.client, k), 2);
    assert.deepEqual(await db.client.keys(`${k.prefix}:def:*`), []);
  });
});
