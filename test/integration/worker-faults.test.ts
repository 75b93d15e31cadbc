import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/log.ts';
import { JOBS_QUEUE } from '../../src/queue/keys.ts';
import { queueJobId } from '../../src/queue/queued-job.ts';
import { createStack } from '../../src/stack.ts';
import { buildEnded } from '../helpers/push-build.ts';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { spawnPushci, type PushciProcess } from '../helpers/process.ts';
import { startReceiver, waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

describe('worker processes that die or are stopped', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const cb = whsec();
  const workers: PushciProcess[] = [];
  const marker = `crash-${randomUUID().slice(0, 6)}`;
  const twiceMarker = `twice-${randomUUID().slice(0, 6)}`;
  const stallMarker = `stall-${randomUUID().slice(0, 6)}`;

  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
    receiver = await startReceiver();
    const p = (name: string, run: string) =>
      `name: ${name}\nrepository: octo-org/${name}\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: |\n${run
        .split('\n')
        .map((l) => `          ${l}`)
        .join('\n')}\nnotify:\n  - url: ${receiver.url}\n    secret: \${{ env.CB }}\n`;
    server = await startServer(
      redis,
      {
        'crash.yml': p('crash', `bash -c 'exec -a ${marker} sleep 4'\necho finished`),
        'drain.yml': p('drain', 'sleep 1.5\necho finished'),
        'stuck.yml': p('stuck', 'sleep 60'),
        'twice.yml': p('twice', `bash -c 'exec -a ${twiceMarker} sleep 60'`),
        // Attempt 1 ends first (while attempt 2 still runs), each saying which attempt it is.
        'stall.yml': p(
          'stall',
          [
            'echo "attempt ${{ github.run_attempt }} started"',
            `if [ "\${{ github.run_attempt }}" = 1 ]; then bash -c 'exec -a ${stallMarker} sleep 3'; else sleep 8; fi`,
            'echo "attempt ${{ github.run_attempt }} ended"',
          ].join('\n'),
        ),
      },
      { GITHUB_WEBHOOK_SECRET: 's', CB: cb },
      { worker: false },
    );
  });
  after(async () => {
    for (const w of workers) w.proc.kill('SIGKILL');
    await server?.close();
    await receiver?.close();
    await redis?.stop();
  });

  /** A fresh worker process, the only one: earlier ones are killed first. Resolves once it takes jobs. */
  const worker = async (env: Record<string, string> = {}, opts: { group?: boolean } = {}) => {
    for (const old of workers.splice(0)) {
      old.proc.kill('SIGKILL');
      await old.exited;
    }
    const w = spawnPushci(['worker'], { ...workerEnv(), ...env }, opts);
    workers.push(w);
    await waitFor(() => w.output.join('').includes('workers started'), 60_000, 'the worker to start');
    return w;
  };
  const workerEnv = (): Record<string, string> => ({
    REDIS_URL: redis.url,
    PUSHCI_QUEUE_PREFIX: redis.prefix,
    PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-worker-')),
    PUSHCI_NOTIFY_ALLOW: '127.0.0.1/32',
    PUSHCI_NOTIFY_RETRY_SCHEDULE: '0,100ms',
    PUSHCI_LOCK_MS: '1500',
    PUSHCI_KILL_GRACE_MS: '300',
    CB: cb,
  });
  const push = async (name: string) =>
    (
      await sendGithub(
        server.base,
        githubPush({ before: repo.commits[0]!, after: repo.commits[0]!, repo: `octo-org/${name}` }),
        's',
      )
    ).json.builds[0].id as string;
  const view = async (id: string) => (await (await server.api(`/api/builds/${id}`)).json()) as BuildView;
  const final = (id: string, ms = 30_000) => buildEnded(server, id, ms);
  const completions = (id: string) =>
    receiver.got.filter(
      (r) => JSON.parse(r.body).type === 'build.completed' && JSON.parse(r.body).data.build.id === id,
    );
  const running = (name: string) => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(name);

  it('a job whose worker is SIGKILLed runs again on another worker, as attempt 2, and completes once', async () => {
    const w1 = await worker();
    const id = await push('crash');
    await waitFor(() => running(marker), 15_000, 'the step to start on worker 1');
    w1.proc.kill('SIGKILL');
    await w1.exited;
    await worker();
    const v = await final(id);
    assert.equal(v.status, 'success', JSON.stringify(v.jobs));
    assert.equal(v.jobs[0]!.attempt, 2);
    const log = await (await server.api(`/api/builds/${id}/jobs/j/log`)).text();
    assert.match(log, /attempt 2.*stopped before finishing/);
    assert.match(log, /finished/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(completions(id).length, 1, 'exactly one build.completed');
    assert.ok(!running(marker), 'the orphaned step of the killed worker was ended');
  });

  it('a job whose worker is SIGKILLed twice ends as error with the reason, and the build completes once', async () => {
    // No worker may hold the job before this test's first one does (the previous test leaves one running).
    for (const old of workers.splice(0)) {
      old.proc.kill('SIGKILL');
      await old.exited;
    }
    const id = await push('twice');
    for (const attempt of [1, 2]) {
      const w = await worker();
      await waitFor(
        async () => (await view(id)).jobs[0]!.attempt === attempt && running(twiceMarker),
        20_000,
        `attempt ${attempt} to start`,
      );
      w.proc.kill('SIGKILL');
      await w.exited;
    }
    await worker();
    const v = await final(id);
    assert.equal(v.status, 'error', JSON.stringify(v.jobs));
    assert.equal(v.jobs[0]!.status, 'error');
    assert.equal(v.jobs[0]!.attempt, 2, 'no third attempt');
    assert.match(v.jobs[0]!.reason ?? '', /stopped twice/);
    await waitFor(() => completions(id).length === 1 || null, 10_000, 'build.completed');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(completions(id).length, 1, 'exactly one build.completed');
    assert.ok(!running(twiceMarker), 'the orphaned step of the second killed worker was ended');
  });

  it("a stalled attempt's late end changes nothing: the new attempt's result and log stand", async () => {
    for (const old of workers.splice(0)) {
      old.proc.kill('SIGKILL');
      await old.exited;
    }
    const w1 = await worker();
    const id = await push('stall');
    await waitFor(() => running(stallMarker), 15_000, 'attempt 1 to start on worker 1');
    // Worker 1 stops (alive, not dead): its lock lapses, BullMQ calls the job stalled, attempt 2 starts.
    w1.proc.kill('SIGSTOP');
    workers.splice(workers.indexOf(w1), 1);
    try {
      const w2 = spawnPushci(['worker'], { ...workerEnv() });
      workers.push(w2);
      await waitFor(async () => (await view(id)).jobs[0]!.attempt === 2 || null, 30_000, 'attempt 2');
      // Worker 1 resumes: its step ended meanwhile, and its attempt ends late.
      w1.proc.kill('SIGCONT');
      await waitFor(
        () => /"attempt":1[^\n]*its result was not recorded/.test(w1.output.join('')) || null,
        20_000,
        "attempt 1's late end",
      );
      const during = await view(id);
      assert.equal(during.jobs[0]!.status, 'running', "attempt 1's result did not end attempt 2");
      assert.equal(during.jobs[0]!.attempt, 2);
      const v = await final(id);
      assert.equal(v.status, 'success', JSON.stringify(v.jobs));
      assert.equal(v.jobs[0]!.attempt, 2, "the job's details are attempt 2's");
      const log = await (await server.api(`/api/builds/${id}/jobs/j/log`)).text();
      assert.match(log, /attempt 2 ended/);
      assert.doesNotMatch(log, /attempt 1 ended/, "attempt 1's late lines are not in the log");
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(completions(id).length, 1, 'exactly one build.completed');
    } finally {
      w1.proc.kill('SIGKILL');
      await w1.exited;
    }
  });

  it('repair ends a job whose queue entry failed while no process recorded it', async () => {
    for (const old of workers.splice(0)) {
      old.proc.kill('SIGKILL');
      await old.exited;
    }
    const id = await push('drain');
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const stack = createStack(conn, server.config, createLogger('silent'));
    try {
      // A bare BullMQ worker, as if pushci's died between BullMQ failing the job and the lifecycle hearing it.
      const bare = new Worker(
        JOBS_QUEUE,
        async () => {
          throw new Error('the runner crashed');
        },
        { connection: conn, prefix: redis.prefix },
      );
      try {
        await waitFor(
          async () => (await stack.jobs.getJobState(queueJobId(id, 'j'))) === 'failed' || null,
          15_000,
          'the queue entry to fail',
        );
      } finally {
        await bare.close();
      }
      assert.equal((await view(id)).jobs[0]!.status, 'queued', 'nobody recorded the failure');
      assert.deepEqual(await stack.lifecycle.repair(id), [
        { kind: 'ended_failed_job', job: 'j', reason: 'pushci could not run the job: the runner crashed' },
      ]);
      const v = await final(id, 5_000);
      assert.equal(v.status, 'error');
      assert.equal(v.jobs[0]!.status, 'error');
      assert.equal(v.jobs[0]!.reason, 'pushci could not run the job: the runner crashed');
      assert.deepEqual(await stack.lifecycle.repair(id), [], 'nothing left to repair');
    } finally {
      await stack.close();
      conn.disconnect();
    }
  });

  it('SIGTERM lets a running job finish within the grace period', async () => {
    const w = await worker({ PUSHCI_SHUTDOWN_GRACE_MS: '10000' });
    const id = await push('drain');
    await waitFor(async () => (await view(id)).status === 'running', 15_000, 'the job to start');
    w.proc.kill('SIGTERM');
    assert.equal(await w.exited, 0);
    // Its last line says it is done, after the one that said it was stopping.
    assert.match(w.output.join('').trim().split('\n').at(-1)!, /"msg":"stopped"/);
    const v = await final(id);
    assert.equal(v.status, 'success');
  });

  it('Ctrl-C (SIGINT to its whole process group, as a terminal sends it) also lets a running job finish', async () => {
    // The worker's helpers (its spawner, git, the sandboxes' forwarders) are in sessions of their own:
    // the signal is the worker's to handle, not theirs to die of (the sandbox and its step with them).
    const w = await worker({ PUSHCI_SHUTDOWN_GRACE_MS: '10000' }, { group: true });
    const id = await push('drain');
    await waitFor(async () => (await view(id)).status === 'running', 15_000, 'the job to start');
    process.kill(-w.proc.pid!, 'SIGINT');
    assert.equal(await w.exited, 0, w.output.join('').slice(-3000));
    const v = await final(id);
    assert.equal(v.status, 'success', JSON.stringify(v.jobs));
    assert.match(await (await server.api(`/api/builds/${id}/jobs/j/log`)).text(), /finished/);
  });

  it('SIGTERM past the grace period cancels the job as shutdown, and the worker exits', async () => {
    const w = await worker({ PUSHCI_SHUTDOWN_GRACE_MS: '300' });
    const id = await push('stuck');
    await waitFor(async () => (await view(id)).status === 'running', 15_000, 'the job to start');
    const t = Date.now();
    w.proc.kill('SIGTERM');
    assert.equal(await w.exited, 0, w.output.join('').slice(-3000));
    // The step sleeps 60 s: the worker did not wait for it (exiting 0 also says it stopped in order
    // before its own deadline, grace + kill grace + 10 s).
    assert.ok(Date.now() - t < 15_000, 'the worker stopped promptly');
    const v = await final(id);
    assert.equal(v.status, 'canceled');
    assert.match(v.jobs[0]!.reason ?? '', /shutdown/);
    // The stopped worker queued build.completed durably; the next worker delivers it.
    await worker();
    await waitFor(() => completions(id).length === 1 || null, 10_000, 'build.completed');
  });
  it("a SIGKILLed worker's workspace is removed by the next worker's sweep; a running job's is kept", async () => {
    for (const old of workers.splice(0)) {
      old.proc.kill('SIGKILL');
      await old.exited;
    }
    const shared = mkdtempSync(join(tmpdir(), 'pushci-shared-'));
    const folder = (id: string, attempt: number) => join(shared, 'workspaces', `${id}-j-${attempt}`);
    const w1 = await worker({ PUSHCI_DATA_DIR: shared });
    const crashed = await push('crash');
    await waitFor(() => running(marker), 15_000, 'the step to start on worker 1');
    w1.proc.kill('SIGKILL');
    await w1.exited;
    assert.ok(existsSync(folder(crashed, 1)), 'the killed worker left its workspace');
    const w2 = await worker({ PUSHCI_DATA_DIR: shared });
    assert.equal((await final(crashed)).jobs[0]!.attempt, 2);
    await waitFor(
      () => !existsSync(folder(crashed, 2)) || null,
      10_000,
      'attempt 2 to remove its own workspace',
    );
    // Another job runs on worker 2 while a third worker, sharing the data dir, starts and sweeps.
    const stuck = await push('stuck');
    await waitFor(async () => (await view(stuck)).status === 'running' || null, 15_000, 'the job to start');
    await waitFor(() => existsSync(folder(stuck, 1)) || null, 10_000, "the running job's workspace");
    // Worker 1's heartbeat lists the crashed job until it expires: a live worker's jobs are kept.
    await waitFor(
      async () => {
        const { workers: live } = (await (await server.api('/api/workers')).json()) as {
          workers: Array<{ pid: number }>;
        };
        return !live.some((w) => w.pid === w1.proc.pid) || null;
      },
      30_000,
      "the killed worker's heartbeat to expire",
    );
    const w3 = spawnPushci(['worker'], { ...workerEnv(), PUSHCI_DATA_DIR: shared });
    workers.push(w3);
    // Worker 3's sweep at its start (or worker 2's periodic one, whichever comes first) removes it.
    await waitFor(
      () => !existsSync(folder(crashed, 1)) || null,
      40_000,
      "the killed worker's workspace to go",
    );
    // The sweep logs once the folder is gone: its line may reach the pipe a moment after.
    const said = new RegExp(`"${crashed}-j-1"[^\\n]*removed workspaces of attempts that no longer run`);
    await waitFor(
      () => said.test([...w2.output, ...w3.output].join('')) || null,
      10_000,
      'the sweep to say so',
    );
    assert.ok(existsSync(folder(stuck, 1)), "the running job's workspace (worker 2's) is kept");
    assert.equal((await view(stuck)).status, 'running');
    const res = await server.api(`/api/builds/${stuck}/cancel`, { method: 'POST' });
    assert.equal(res.status, 202, await res.text());
    assert.equal((await final(stuck)).status, 'canceled');
    assert.ok(w2.proc.exitCode === null, 'worker 2 ran throughout');
  });
});
