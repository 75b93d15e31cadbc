import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { loadPipelineSource } from '../../src/pipelines/load-pipeline-source.ts';
import { keys as keyMap } from '../../src/queue/keys.ts';
import { BuildStore } from '../../src/queue/store.ts';
import type { Backend } from '../../src/runner/backend.ts';
import { decodeLine } from '../../src/runner/job-log.ts';
import { runJob } from '../../src/runner/run-job.ts';
import { selectBackend } from '../../src/runner/select-backend.ts';
import { newBuild } from '../helpers/builds.ts';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';

/**
 * A cancel (or the job's timeout) that arrives while a job is still being set up, before its first step:
 * the job must end canceled, not skip its steps and report a success it never earned (it did, when the
 * cancel landed during checkout or the sandbox's start).
 */
describe('runJob stopped before its first step', () => {
  let redis: TestRedis;
  let client: Redis;
  let repo: TestRepo;
  let store: BuildStore;
  let backend: Backend;
  const k = () => keyMap(redis.prefix);
  const config = () =>
    loadConfig({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: redis.url,
      PUSHCI_QUEUE_PREFIX: redis.prefix,
      PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-test-data-')),
      PUSHCI_PIPELINES: mkdtempSync(join(tmpdir(), 'pushci-test-pipelines-')),
      PUSHCI_URL: 'http://127.0.0.1:9',
    });

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    store = new BuildStore(client, k());
    repo = makeRepo([{ 'a.txt': '1' }]);
    backend = await selectBackend(config(), createLogger('silent'));
  });
  after(async () => {
    await backend?.close?.();
    client?.disconnect();
    await redis?.stop();
  });

  /** A build of one job with two steps that would leave a trace in the log if they ran. */
  async function record() {
    const text = `name: web\nrepository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  build:\n    steps:\n      - run: echo "one-$((40+2))"\n      - run: echo "two-$((40+2))"\n`;
    const { pipeline } = loadPipelineSource('web.yml', Buffer.from(text), {});
    assert.ok(pipeline);
    const b = newBuild(pipeline);
    b.meta.sha = repo.commits[0]!;
    await store.create([b]);
    // Attempt 1 has the job, as a worker's start leaves it: the log keeps only its attempt's lines.
    await store.moveJob(b.meta.id, 'build', ['pending'], 'queued');
    const at = new Date().toISOString();
    const started = { attempt: 1, exit_code: null, reason: null, started_at: at, finished_at: null };
    assert.ok((await store.startJob(b.meta.id, 'build', ['queued'], started, at)).ok);
    return (await store.get(b.meta.id))!;
  }
  const logOf = async (id: string) =>
    (await client.lrange(k().log(id, 'build'), 0, -1)).map((l) => decodeLine(l).m).join('\n');

  /** The real backend, with the cancel arriving once the sandbox is prepared. */
  const cancelDuringPrepare = (ac: AbortController): Backend => ({
    name: backend.name,
    isolated: backend.isolated,
    describe: (o) => backend.describe(o),
    sweep: () => backend.sweep(),
    prepare: async (o) => {
      const rt = await backend.prepare(o);
      ac.abort('canceled through the API');
      return rt;
    },
  });

  it('control: the same job, not canceled, runs both steps and succeeds', async () => {
    const r = await record();
    const out = await runJob(
      { config: config(), redis: client, keys: k(), backend },
      r,
      'build',
      1,
      undefined,
    );
    assert.equal(out.status, 'success');
    const log = await logOf(r.meta.id);
    assert.match(log, /one-42/);
    assert.match(log, /two-42/);
  });

  it('ends canceled, with no step run, when the cancel comes during the sandbox start', async () => {
    const r = await record();
    const ac = new AbortController();
    const out = await runJob(
      { config: config(), redis: client, keys: k(), backend: cancelDuringPrepare(ac) },
      r,
      'build',
      1,
      ac.signal,
    );
    assert.equal(out.status, 'canceled');
    assert.equal(out.status === 'canceled' && out.reason, 'canceled through the API');
    const log = await logOf(r.meta.id);
    assert.doesNotMatch(log, /one-42|two-42/);
    assert.match(log, /job canceled before step/);
  });

  it('ends canceled when the cancel came before the job started at all', async () => {
    const r = await record();
    const ac = new AbortController();
    ac.abort('canceled through the API');
    const out = await runJob(
      { config: config(), redis: client, keys: k(), backend },
      r,
      'build',
      1,
      ac.signal,
    );
    assert.equal(out.status, 'canceled');
    assert.doesNotMatch(await logOf(r.meta.id), /one-42/);
  });
});
