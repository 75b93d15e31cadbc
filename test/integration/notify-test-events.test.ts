import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, post, sendGithub, whsec } from '../helpers/payloads.ts';
import { spawnPushci } from '../helpers/process.ts';
import { receiverExample, startDocumentedReceiver } from '../helpers/documented-receiver.ts';
import { startReceiver, waitFor } from '../helpers/receiver.ts';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

describe('test events and the documented receivers', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  const secret = whsec();
  const children: ReturnType<typeof spawn>[] = [];
  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await server?.close();
    await redis?.stop();
  });

  it('notify-test and POST /api/endpoints/test send one signed example of every event type', async () => {
    const receiver = await startReceiver();
    // The same address policy as real deliveries: a loopback receiver is refused, and the output says how to allow it…
    const refusedCli = spawnPushci(['notify-test', receiver.url, '--secret', secret], {});
    assert.equal(await refusedCli.exited, 1, refusedCli.output.join(''));
    assert.match(refusedCli.output.join(''), /✘ build\.queued .*internal address.*PUSHCI_NOTIFY_ALLOW/);
    assert.equal(receiver.got.length, 0);
    // …and once allowed, as deliveries would be, every event type arrives.
    const p = spawnPushci(['notify-test', receiver.url, '--secret', secret], {
      PUSHCI_NOTIFY_ALLOW: '127.0.0.1',
    });
    assert.equal(await p.exited, 0, p.output.join(''));
    assert.deepEqual(receiver.types(), ['build.queued', 'build.started', 'build.completed', 'job.completed']);
    const wh = new Webhook(secret);
    for (const m of receiver.got)
      wh.verify(m.body, {
        'webhook-id': String(m.headers['webhook-id']),
        'webhook-timestamp': String(m.headers['webhook-timestamp']),
        'webhook-signature': String(m.headers['webhook-signature']),
      });

    server = await startServer(
      redis,
      {
        'p.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n`,
      },
      { GITHUB_WEBHOOK_SECRET: 's' },
    );
    const api = await post(
      `${server.base}/api/endpoints/test`,
      JSON.stringify({ url: receiver.url, secret }),
      { authorization: `Bearer ${server.token}` },
    );
    assert.equal(api.status, 200, api.text);
    assert.equal(api.json.ok, true);
    assert.equal(api.json.deliveries.length, 4);
    assert.equal(receiver.got.length, 8);
    const refused = await post(
      `${server.base}/api/endpoints/test`,
      JSON.stringify({ url: 'http://10.0.0.1/x', secret }),
      { authorization: `Bearer ${server.token}` },
    );
    assert.equal(refused.json.ok, false);
    assert.match(refused.json.deliveries[0].error, /internal address/);
    await receiver.close();
  });

  it('the documented Node receiver (docs/receivers.md) verifies and de-duplicates what a real pushci sends', async () => {
    const port = await freePort();
    const { child, lines } = await startDocumentedReceiver(port, secret);
    children.push(child);

    await server.close();
    server = await startServer(
      redis,
      {
        'p.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\nnotify:\n  - url: http://127.0.0.1:${port}/\n    secret: \${{ env.CB }}\n`,
      },
      { GITHUB_WEBHOOK_SECRET: 's', CB: secret },
    );
    const res = await sendGithub(
      server.base,
      githubPush({ before: repo.commits[0]!, after: repo.commits[0]! }),
      's',
    );
    const id = res.json.builds[0].id as string;
    await waitFor(
      () => lines.some((l) => l.startsWith('build.completed')),
      20_000,
      'build.completed at the documented receiver',
    );
    const completed = `msg_${id}_build.completed_0`;
    // The receiver can log the message before the delivery job is marked done (409 until then).
    const redeliver = () =>
      post(`${server.base}/api/deliveries/${completed}/redeliver`, '', {
        authorization: `Bearer ${server.token}`,
      });
    let redo = await redeliver();
    for (let i = 0; redo.status === 409 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      redo = await redeliver();
    }
    assert.equal(redo.status, 202, redo.text);
    await waitFor(
      async () =>
        (
          (await (await server.api(`/api/deliveries/${completed}`)).json()) as {
            attempt_log: unknown[];
          }
        ).attempt_log.length === 2,
      10_000,
      'the redelivery',
    );
    assert.deepEqual(
      lines.map((l) => l.split(' ')[0]).sort(),
      ['build.completed', 'build.queued', 'build.started'],
      'each message handled once',
    );
    assert.match(
      lines.find((l) => l.startsWith('build.completed'))!,
      / success [0-9a-f]{7} msg_/,
    );
  });

  it('the documented shell receiver (docs/receivers.md) verifies a real signature and refuses a forged one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-readme-sh-'));
    writeFileSync(join(dir, 'verify.sh'), receiverExample('shell'), { mode: 0o755 });
    const body = JSON.stringify({ type: 'build.completed', data: { build: { id: 'x' } } });
    const id = 'msg_shell_test';
    const now = new Date();
    const sig = new Webhook(secret).sign(id, now, body);
    const ts = String(Math.floor(now.getTime() / 1000));
    const run = (s: string) => {
      try {
        return execFileSync('sh', [join(dir, 'verify.sh'), id, ts, s], {
          input: body,
          env: { PATH: process.env.PATH!, CALLBACK_SECRET: secret, SEEN_FILE: join(dir, 'seen') },
          encoding: 'utf8',
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      } catch {
        return 'refused';
      }
    };
    assert.equal(run(`v1,AAAA ${sig}`).trim(), `verified ${id}`);
    assert.equal(run(sig).trim(), '', 'a second delivery of the same id is skipped');
    assert.equal(run('v1,' + Buffer.alloc(32).toString('base64')), 'refused');
  });
});
