import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { startReceiver, waitFor } from '../helpers/receiver.ts';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/** Nothing listens on `port` until this starts a receiver there. */
function receiverOn(port: number) {
  const got: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      got.push(req.headers);
      res.end('ok');
    });
  });
  return {
    got,
    listen: () => new Promise<void>((r) => server.listen(port, '127.0.0.1', r)),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('delivery circuit breaker', () => {
  const MESSAGES = 12;
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let healthy: Awaited<ReturnType<typeof startReceiver>>;
  let down: ReturnType<typeof receiverOn>;
  let downUrl = '';

  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
    healthy = await startReceiver();
    const port = await freePort();
    down = receiverOn(port);
    downUrl = `http://127.0.0.1:${port}/hook`;
    const notify = (url: string) =>
      `  - url: ${url}\n    secret: \${{ env.CB }}\n    events: [build.completed]\n`;
    server = await startServer(
      redis,
      {
        'p.yml': `name: p\nrepository: octo-org/*\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\nnotify:\n${notify(downUrl)}${notify(healthy.url)}`,
      },
      // A retry every second: without the breaker, every message would make them all. Nine of them,
      // then 10 minutes: however slowly the messages come (a loaded machine queued them over seconds),
      // a message fails at most 5 times before the circuit opens (5 failures in all open it) and then
      // only as the probe (a few in the test), so none reaches the 10 minute retry, which the receiver
      // coming back would not shorten. With '0,1s,10m' two messages that failed twice before the
      // circuit opened waited 10 minutes, and the test for them.
      {
        GITHUB_WEBHOOK_SECRET: 's',
        CB: whsec(),
        PUSHCI_NOTIFY_RETRY_SCHEDULE: `0${',1s'.repeat(9)},10m`,
      },
    );
  });
  after(async () => {
    await server?.close();
    await down?.close();
    await healthy?.close();
    await redis?.stop();
  });

  const downEndpoint = async () => {
    const res = await server.api('/api/endpoints');
    assert.equal(res.status, 200);
    const { endpoints } = (await res.json()) as {
      endpoints: Array<{ url: string; stats: { attempts_24h: number; circuit_open_until: string | null } }>;
    };
    return endpoints.find((e) => e.url === downUrl)!;
  };

  // On a busy machine the receiver may come back only after a probe or two more failed, each doubling
  // the circuit's period (5 s, 10 s, 20 s, ...): the wait below allows for the period it reached.
  it(
    'keeps a refusing receiver’s messages without spending attempts, and sends each once it is back',
    { timeout: 300_000 },
    async () => {
      for (let i = 0; i < MESSAGES; i++) {
        const r = await sendGithub(
          server.base,
          githubPush({ before: repo.commits[0]!, after: repo.commits[0]!, message: `m${i} [skip ci]` }),
          's',
        );
        assert.equal(r.status, 202, r.text);
      }
      await waitFor(() => healthy.got.length >= MESSAGES, 30_000, 'every message at the healthy receiver');
      // Five refused attempts in a row open the circuit; the API says until when.
      const open = await waitFor(async () => {
        const e = await downEndpoint();
        return e.stats.circuit_open_until ? e : null;
      }, 30_000);
      assert.ok(Date.parse(open.stats.circuit_open_until!) > Date.now() - 1000);
      // The control: the healthy receiver's own circuit stays closed.
      const res = await server.api('/api/endpoints');
      const all = ((await res.json()) as { endpoints: Array<{ url: string; stats: any }> }).endpoints;
      assert.equal(all.find((e) => e.url === healthy.url)!.stats.circuit_open_until, null);
      // Past the one-second retry, the kept messages have not made their second attempts.
      await new Promise((r) => setTimeout(r, 2000));
      const kept = await downEndpoint();
      assert.ok(
        kept.stats.attempts_24h < MESSAGES,
        `fewer attempts than messages while the circuit is open, saw ${kept.stats.attempts_24h}`,
      );
      assert.equal(down.got.length, 0);

      await down.listen();
      // The probe goes when the period ends; the kept messages follow over half a period (the next,
      // doubled one) after it.
      const until = (await downEndpoint()).stats.circuit_open_until;
      const period = until ? Math.max(0, Date.parse(until) - Date.now()) : 0;
      await waitFor(
        () => new Set(down.got.map((h) => h['webhook-id'])).size >= MESSAGES,
        60_000 + 2.5 * period,
        'every kept message at the receiver once it is back',
      );
      await new Promise((r) => setTimeout(r, 500));
      const ids = down.got.map((h) => String(h['webhook-id']));
      assert.equal(new Set(ids).size, MESSAGES, 'every message arrived');
      assert.equal(ids.length, MESSAGES, 'and none twice');
      await waitFor(async () => (await downEndpoint()).stats.circuit_open_until === null, 10_000, 'closed');
    },
  );
});
