import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { spawnPushci, type PushciProcess } from '../helpers/process.ts';
import { startReceiver, waitFor, waitForHttp } from '../helpers/receiver.ts';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.ts';

const PUSHES = Number(process.env.SOAK_PUSHES ?? 5000);
const FINAL = new Set(['success', 'failure', 'canceled', 'error', 'skipped']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`soak: ${PUSHES} pushes, 2 receivers, 3 workers killed and restarted, Redis restarted once`, () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const receivers: Array<PushciProcess & { base: string }> = [];
  const workers: PushciProcess[] = [];
  let env: Record<string, string>;

  before(async () => {
    redis = await startRedis({ private: true });
    repo = makeRepo();
    receiver = await startReceiver();
    const pipelines = mkdtempSync(join(tmpdir(), 'pushci-soak-'));
    writeFileSync(
      join(pipelines, 'p.yml'),
      `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\nnotify:\n  - url: ${receiver.url}\n    secret: \${{ env.CB }}\n    events: [build.completed]\n`,
    );
    env = {
      REDIS_URL: redis.url,
      PUSHCI_QUEUE_PREFIX: redis.prefix,
      PUSHCI_PIPELINES: pipelines,
      GITHUB_WEBHOOK_SECRET: 's',
      CB: whsec(),
      PUSHCI_NOTIFY_ALLOW: '127.0.0.1/32',
      PUSHCI_NOTIFY_RETRY_SCHEDULE: '0,500ms,1s,2s,5s,10s,10s,10s',
      PUSHCI_LOCK_MS: '3000',
      PUSHCI_REPAIR_INTERVAL: '5s',
      PUSHCI_CONCURRENCY: '4',
      PUSHCI_LOG_LEVEL: 'warn',
    };
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const p = spawnPushci(['serve', '--no-worker'], {
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
        PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-soak-r-')),
      });
      receivers.push({ ...p, base: `http://127.0.0.1:${port}` });
    }
    for (let i = 0; i < 3; i++) workers.push(startWorker());
    for (const r of receivers) {
      await waitForHttp(`${r.base}/healthz`, {
        what: `receiver ${r.base}: ${r.output.join('').slice(-300)}`,
      });
    }
  });
  after(async () => {
    for (const p of [...receivers, ...workers]) p.proc.kill('SIGKILL');
    await receiver?.close();
    await redis?.stop();
  });

  function startWorker(): PushciProcess {
    return spawnPushci(['worker'], {
      ...env,
      PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-soak-w-')),
    });
  }

  it(
    'every accepted push has exactly one build with a final status, and one build.completed',
    { timeout: 14 * 60_000 },
    async (t) => {
      const sha = repo.commits[0]!;
      const accepted = new Map<string, string[]>(); // delivery → build ids
      let sent = 0;
      let retried = 0;
      let duplicatesAnswered = 0;
      let workerKills = 0;
      let redisRestarts = 0;
      let stop = false;
      // Cancelled by its timeout, the test's own code goes on running: the chaos would restart the workers
      // the suite's after() has killed, and the process would never exit.
      t.signal.addEventListener('abort', () => (stop = true));

      // Chaos: a worker SIGKILLed and replaced every 3 s; Redis SIGKILLed and restarted once, while pushes arrive.
      const chaos = (async () => {
        while (!stop) {
          await sleep(3000);
          if (stop) break;
          const i = workerKills % workers.length;
          workers[i]!.proc.kill('SIGKILL');
          await workers[i]!.exited;
          workers[i] = startWorker();
          workerKills++;
        }
      })();
      const redisChaos = (async () => {
        while (!stop && sent < PUSHES * 0.4) await sleep(20);
        if (stop) return;
        await redis.kill!();
        await sleep(1500);
        await redis.restart!();
        redisRestarts++;
      })();

      // Load: each push is retried with the same delivery id on any failure, as a forge's redelivery would.
      const deliveries = Array.from({ length: PUSHES }, () => randomUUID());
      let next = 0;
      const sender = async (lane: number) => {
        while (next < deliveries.length && !stop) {
          const delivery = deliveries[next++]!;
          for (let attempt = 0; ; attempt++) {
            const target = receivers[(lane + attempt) % receivers.length]!;
            try {
              const r = await sendGithub(target.base, githubPush({ before: sha, after: sha }), 's', {
                'x-github-delivery': delivery,
              });
              if (r.status === 202 || (r.status === 200 && r.json?.duplicate)) {
                if (r.status === 200) duplicatesAnswered++;
                accepted.set(
                  delivery,
                  r.json.builds.map((b: { id: string }) => b.id),
                );
                break;
              }
              assert.ok([503, 409].includes(r.status), `unexpected ${r.status}: ${r.text.slice(0, 200)}`);
            } catch {
              // connection refused or reset: the receiver is busy reconnecting; redeliver
            }
            retried++;
            await sleep(200);
            if (stop) return;
          }
          sent++;
        }
      };
      await Promise.all(Array.from({ length: 16 }, (_, i) => sender(i)));

      // Wait for every build to end and its build.completed to arrive (workers keep being killed meanwhile).
      const client = new Redis(redis.url, { maxRetriesPerRequest: null });
      client.on('error', () => {});
      const buildIds = [...accepted.values()].flat();
      const completedIds = () => new Set(receiver.got.map((m) => JSON.parse(m.body).data.build.id as string));
      let unfinished: string[] = [];
      try {
        await waitFor(
          async () => {
            if (stop) throw new Error('cancelled (the test timed out)');
            const statuses = await Promise.all(
              buildIds.map((id) => client.hget(`${redis.prefix}:build:${id}`, 'status')),
            );
            const announced = completedIds();
            unfinished = buildIds.filter(
              (id, i) => !(statuses[i] && FINAL.has(statuses[i]!) && announced.has(id)),
            );
            return unfinished.length === 0;
          },
          12 * 60_000,
          'every build to finish and be announced',
        );
      } catch (err) {
        // Say what is stuck: the builds' records as Redis holds them.
        const sample = await Promise.all(
          unfinished.slice(0, 5).map((id) => client.hgetall(`${redis.prefix}:build:${id}`)),
        );
        // Its connection retries for ever: left open, the failed test's process would never exit.
        client.disconnect();
        throw new Error(
          `${(err as Error).message}: ${unfinished.length} of ${buildIds.length} builds unfinished or unannounced, e.g. ${JSON.stringify(sample).slice(0, 3000)}`,
        );
      } finally {
        // A failure must end the chaos too, or the test never exits.
        stop = true;
        await chaos;
        await redisChaos;
      }

      const statuses = await Promise.all(
        buildIds.map((id) => client.hget(`${redis.prefix}:build:${id}`, 'status')),
      );
      const stored = await client.zcard(`${redis.prefix}:index:builds`);
      client.disconnect();
      const byBuild = new Map<string, Set<string>>();
      for (const m of receiver.got) {
        const id = JSON.parse(m.body).data.build.id as string;
        byBuild.set(id, (byBuild.get(id) ?? new Set()).add(String(m.headers['webhook-id'])));
      }
      const received = receiver.got.length;
      const distinctMessages = new Set(receiver.got.map((m) => m.headers['webhook-id'])).size;
      const counts = {
        pushes: PUSHES,
        accepted: accepted.size,
        retried_requests: retried,
        duplicate_answers: duplicatesAnswered,
        builds_stored: stored,
        final: statuses.filter((s) => s !== null && FINAL.has(s)).length,
        success: statuses.filter((s) => s === 'success').length,
        completed_messages: distinctMessages,
        redelivered_messages: received - distinctMessages,
        lost: buildIds.filter((id) => !byBuild.has(id)).length,
        worker_kills: workerKills,
        redis_restarts: redisRestarts,
      };
      console.log(`soak: ${JSON.stringify(counts)}`);
      assert.equal(accepted.size, PUSHES, 'every push was accepted in the end');
      for (const [d, ids] of accepted) assert.equal(ids.length, 1, `delivery ${d} has ${ids.length} builds`);
      assert.equal(new Set(buildIds).size, PUSHES, 'one build per delivery');
      assert.equal(stored, PUSHES, 'no build was doubled in Redis');
      assert.equal(counts.final, PUSHES);
      for (const [id, msgs] of byBuild)
        assert.equal(msgs.size, 1, `build ${id} was announced under ${msgs.size} message ids`);
      assert.equal(counts.lost, 0);
      assert.ok(workerKills >= 3 && redisRestarts === 1, 'the chaos happened');
    },
  );
});
