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
import { startReceiver, waitForHttp } from '../helpers/receiver.ts';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.ts';

const PUSHES = Number(process.env.SOAK_PUSHES ?? 5000);
const FINAL = new Set(['success', 'failure', 'canceled', 'error', 'skipped']);
/** The wait for the last builds fails once none ended (or was announced) for this long. */
const STALL_MS = 3 * 60_000;
/** And in any case after this long (the test's own timeout is 45 minutes, package.json's 50). */
const MAX_WAIT_MS = 35 * 60_000;
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
    { timeout: 45 * 60_000 },
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
            let r: Awaited<ReturnType<typeof sendGithub>> | null = null;
            try {
              r = await sendGithub(target.base, githubPush({ before: sha, after: sha }), 's', {
                'x-github-delivery': delivery,
              });
            } catch {
              // connection refused or reset: the receiver is busy reconnecting; redeliver
            }
            if (r && (r.status === 202 || (r.status === 200 && r.json?.duplicate))) {
              if (r.status === 200) duplicatesAnswered++;
              accepted.set(
                delivery,
                r.json.builds.map((b: { id: string }) => b.id),
              );
              break;
            }
            // Only "Redis is unreachable" (503) and "this delivery is being stored elsewhere" (409) may
            // ask for a redelivery; anything else is a bug the soak must report, not retry past.
            if (r)
              assert.ok([503, 409].includes(r.status), `unexpected ${r.status}: ${r.text.slice(0, 200)}`);
            retried++;
            await sleep(200);
            if (stop) return;
          }
          sent++;
        }
      };
      await Promise.all(Array.from({ length: 16 }, (_, i) => sender(i)));

      // Wait for every build to end and its build.completed to arrive (workers keep being killed meanwhile),
      // for as long as builds keep ending: a lost push stops the progress for good, a slow or busy machine
      // only slows it down. Each look asks only about the builds not yet done, once a second (asking about
      // all of them every 50 ms had the test itself take a core from the machine it measures).
      const client = new Redis(redis.url, { maxRetriesPerRequest: null });
      client.on('error', () => {});
      const buildIds = [...accepted.values()].flat();
      const announced = new Set<string>();
      let read = 0;
      const pending = new Set(buildIds);
      const waitStart = Date.now();
      let progressAt = waitStart;
      try {
        while (pending.size > 0) {
          if (stop) throw new Error('cancelled (the test timed out)');
          for (; read < receiver.got.length; read++)
            announced.add(JSON.parse(receiver.got[read]!.body).data.build.id as string);
          const ids = [...pending];
          const statuses = await Promise.all(
            ids.map((id) => client.hget(`${redis.prefix}:build:${id}`, 'status')),
          );
          ids.forEach((id, i) => {
            if (statuses[i] && FINAL.has(statuses[i]!) && announced.has(id)) {
              pending.delete(id);
              progressAt = Date.now();
            }
          });
          if (pending.size === 0) break;
          if (Date.now() - progressAt > STALL_MS)
            throw new Error(`no build ended or was announced for ${STALL_MS / 1000} s`);
          if (Date.now() - waitStart > MAX_WAIT_MS)
            throw new Error(`not all done after ${MAX_WAIT_MS / 60_000} minutes of waiting`);
          await sleep(1000);
        }
      } catch (err) {
        // Say what is stuck: the builds' records as Redis holds them.
        const sample = await Promise.all(
          [...pending].slice(0, 5).map((id) => client.hgetall(`${redis.prefix}:build:${id}`)),
        );
        // Its connection retries for ever: left open, the failed test's process would never exit.
        client.disconnect();
        throw new Error(
          `${(err as Error).message}: ${pending.size} of ${buildIds.length} builds unfinished or unannounced, e.g. ${JSON.stringify(sample).slice(0, 3000)}`,
        );
      } finally {
        // A failure must end the chaos too, or the test never exits.
        stop = true;
        await chaos;
        await redisChaos;
      }
      const waitedS = Math.round((Date.now() - waitStart) / 1000);

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
        waited_for_the_last_builds_s: waitedS,
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
