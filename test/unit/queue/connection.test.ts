import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRedis, redisOptions, waitReady } from '../../../src/queue/connection.ts';
import { COMMAND_FILES, withScripts, type ScriptRedis } from '../../../src/queue/scripts.ts';
import { keys } from '../../../src/queue/keys.ts';
import { startRedis, type TestRedis } from '../../helpers/redis.ts';

describe('the receiver connection (producer)', () => {
  let server: TestRedis;
  let redis: ScriptRedis;
  before(async () => {
    server = await startRedis();
    redis = withScripts(createRedis(server.url, 'producer'));
    await waitReady(redis);
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('names only pushci commands among those it keeps out of auto-pipelining', () => {
    const ignored = redisOptions('producer').autoPipeliningIgnoredCommands ?? [];
    assert.deepEqual([...ignored].sort(), ['pushciCreate', 'pushciWebhookLog']);
    for (const name of ignored) assert.ok(name in COMMAND_FILES, `${name} is one of pushci's commands`);
  });

  it('sends the "why" records and the builds at once, other commands through the auto-pipeline', async () => {
    const k = keys(server.prefix);
    // Each of these batches the webhooks of one event-loop turn itself: a Pipeline object per call only
    // cost the receiver CPU.
    const logged = redis.pushciWebhookLog(
      2,
      k.webhooks,
      k.webhook('r1'),
      '10',
      '60000',
      String(Date.now()),
      'r1',
      String(Date.now()),
      '{}',
    );
    assert.equal(redis.autoPipelineQueueSize, 0, 'the "why" records are written at once');
    const read = redis.get(k.webhook('r1'));
    assert.equal(redis.autoPipelineQueueSize, 1, 'a plain command still waits for the turn to end');
    assert.equal(await logged, 1);
    assert.equal(await read, '{}');
  });
});
