import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRedis, waitReady } from '../../../src/queue/connection.ts';
import { withScripts, type ScriptRedis } from '../../../src/queue/scripts.ts';
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

  it('sends every command at once, none through an auto-pipeline', async () => {
    const k = keys(server.prefix);
    // The intake batches its own writes per event-loop turn; an auto-pipeline would only add a Pipeline
    // object (copying every script of the connection) per turn.
    const now = String(Date.now());
    const logged = redis.pushciWebhookLog(
      2,
      k.webhooks,
      k.webhook('r1'),
      '10',
      '60000',
      now,
      'r1',
      now,
      '{}',
    );
    const read = redis.get(k.webhook('r1'));
    assert.equal(redis.autoPipelineQueueSize, 0, 'nothing waits for the end of the turn');
    assert.equal(await logged, 1);
    assert.equal(await read, '{}', 'commands reach Redis in the order they were made');
  });
});
