import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { keys } from '../../src/queue/keys.ts';
import { listWorkers, startHeartbeat } from '../../src/queue/worker-heartbeat.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteRedis } from '../helpers/suite-redis.ts';
import { startServer } from '../helpers/server.ts';

describe('worker heartbeats', () => {
  const db = suiteRedis();

  it('says who is alive and what it runs, expires on its own, and leaves when stopped', async () => {
    let running = [{ build_id: 'b1', job: 'test' }];
    const stop = startHeartbeat(db.client, keys(db.redis.prefix), {
      concurrency: 4,
      labels: ['linux', 'gpu'],
      running: () => running,
    });
    const [w] = await waitFor(async () => {
      const list = await listWorkers(db.client, keys(db.redis.prefix));
      return list.length === 1 ? list : null;
    });
    assert.equal(w!.host, hostname());
    assert.equal(w!.pid, process.pid);
    assert.deepEqual(w!.labels, ['linux', 'gpu']);
    assert.deepEqual(w!.running, [{ build_id: 'b1', job: 'test' }]);
    assert.equal(w!.concurrency, 4);
    const ttl = await db.client.pttl(`${db.redis.prefix}:worker:${w!.id}`);
    assert.ok(ttl > 0 && ttl <= 15_000, `the record expires by itself (pttl ${ttl})`);
    running = [];
    await stop();
    assert.deepEqual(await listWorkers(db.client, keys(db.redis.prefix)), []);
  });

  it('a server with workers beats; GET /api/workers lists it', async () => {
    const server = await startServer(db.redis, {
      'p.yml': 'name: p\nrepository: o/p\non: push\njobs:\n  a:\n    steps:\n      - run: "true"\n',
    });
    try {
      const body = await waitFor(async () => {
        const b = (await (await server.api('/api/workers')).json()) as {
          workers: Array<{ pid: number; running: unknown[] }>;
        };
        return b.workers.length > 0 ? b : null;
      });
      assert.equal(body.workers[0]!.pid, process.pid);
      assert.deepEqual(body.workers[0]!.running, []);
    } finally {
      await server.close();
    }
    const b = await listWorkers(db.client, keys(db.redis.prefix));
    assert.deepEqual(b, [], 'a worker that shut down is gone at once');
  });
});
