import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { keys as makeKeys } from '../../../src/queue/keys.ts';
import { decodeLine, JobLog } from '../../../src/runner/job-log.ts';
import { startRedis, type TestRedis } from '../../helpers/redis.ts';

describe('job log (real Redis)', () => {
  let redis: TestRedis;
  let client: Redis;
  let subscriber: Redis;
  const announced: string[] = [];
  const k = () => makeKeys(redis.prefix);

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    subscriber = new Redis(redis.url);
    await subscriber.subscribe(k().logAppendsChannel);
    subscriber.on('message', (_channel: string, key: string) => announced.push(key));
  });
  after(async () => {
    client.disconnect();
    subscriber.disconnect();
    await redis.stop();
  });

  const open = async (build: string, attempt: number, current: number) => {
    await client.hset(k().build(build), 'job:j', JSON.stringify({ attempt: current }));
    const key = k().log(build, 'j');
    const log = new JobLog(
      client,
      key,
      1024 * 1024,
      (l) => l.replaceAll('hunter2', '********'),
      { build: k().build(build), field: 'job:j', attempt },
      k().logAppendsChannel,
    );
    return { log, key };
  };

  it('stores a text with newlines as one element per line, masked first, and announces the append', async () => {
    const { log, key } = await open('b1', 1, 1);
    log.system('pushci: error: git said\nfatal: hunter2 is no object', 1000);
    log.write('out', 'plain', 1001);
    await log.close();
    const stored = (await client.lrange(key, 0, -1)).map(decodeLine);
    assert.deepEqual(stored, [
      { t: 1000, s: 'sys', m: 'pushci: error: git said' },
      { t: 1000, s: 'sys', m: 'fatal: ******** is no object' },
      { t: 1001, s: 'out', m: 'plain' },
    ]);
    await waitUntil(() => announced.includes(key));
  });

  it('an attempt that is no longer the job’s stores nothing and announces nothing', async () => {
    const { log, key } = await open('b2', 1, 2);
    log.write('out', 'late', 1000);
    await log.close();
    // An append of another log after it: once its announcement is here, the late one would be too.
    const other = await open('b3', 1, 1);
    other.log.write('out', 'now', 1000);
    await other.log.close();
    await waitUntil(() => announced.includes(other.key));
    assert.equal(await client.llen(key), 0);
    assert.ok(!announced.includes(key), 'the refused append was announced');
  });
});

async function waitUntil(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(ok(), 'the append was not announced');
}
