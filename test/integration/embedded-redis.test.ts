import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { spawnPushci, type PushciProcess } from '../helpers/process.ts';
import { waitFor } from '../helpers/receiver.ts';
import { freePort } from '../helpers/redis.ts';
import type { BuildView } from '../../src/model.ts';

const TOKEN = 'embedded-test-token';
/** What a Redis answers to these inline commands, as a local attacker would send them. */
function raw(port: number, commands: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(commands));
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('error', reject);
    s.on('close', () => resolve(text));
  });
}

const mode = (p: string) => statSync(p).mode & 0o777;

/** pids of the redis-server processes working in `dir` (Redis changes into its data folder). */
function redisServersIn(dir: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (
        readlinkSync(`/proc/${pid}/cwd`) === dir &&
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server')
      )
        out.push(Number(pid));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

describe('the embedded Redis: password, and one serve sharing it with workers of the same folder', () => {
  let repo: TestRepo;
  let data: string;
  let pipelines: string;
  const procs: PushciProcess[] = [];
  let serve: PushciProcess & { base: string; port: number };

  const env = (extra: Record<string, string> = {}) => ({
    HOST: '127.0.0.1',
    PUSHCI_PIPELINES: pipelines,
    PUSHCI_DATA_DIR: data,
    GITHUB_WEBHOOK_SECRET: 's',
    PUSHCI_API_TOKEN: TOKEN,
    PUSHCI_SHUTDOWN_GRACE_MS: '2000',
    ...extra,
  });
  const startServe = async (port?: number) => {
    port ??= await freePort();
    const p = spawnPushci(['serve', '--no-worker'], env({ PORT: String(port) }));
    procs.push(p);
    await waitFor(() => p.output.join('').includes('pushci is listening'), 60_000, 'serve to listen');
    return { ...p, base: `http://127.0.0.1:${port}`, port };
  };
  const state = () =>
    JSON.parse(readFileSync(join(data, 'redis', 'embedded.json'), 'utf8')) as { port: number; pid: number };
  const password = () => readFileSync(join(data, 'redis', 'password'), 'utf8');
  const client = (pw?: string) =>
    new Redis({
      port: state().port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...(pw === undefined ? {} : { password: pw }),
    });
  const view = async (id: string) =>
    (await (
      await fetch(`${serve.base}/api/builds/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as BuildView;
  const push = async () => {
    const r = await sendGithub(
      serve.base,
      githubPush({ before: repo.commits[0]!, after: repo.commits[0]! }),
      's',
    );
    assert.equal(r.status, 202, r.text);
    return r.json.builds[0].id as string;
  };

  before(async () => {
    repo = makeRepo();
    data = join(mkdtempSync(join(tmpdir(), 'pushci-embedded-')), 'data');
    pipelines = mkdtempSync(join(tmpdir(), 'pushci-embedded-pipes-'));
    writeFileSync(
      join(pipelines, 'web.yml'),
      `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: echo built\n`,
    );
    serve = await startServe();
  });
  after(async () => {
    for (const p of procs) p.proc.kill('SIGKILL');
    // A SIGKILLed serve leaves its redis-server behind by design (the next serve adopts it); not here.
    for (const pid of redisServersIn(join(data, 'redis'))) process.kill(pid, 'SIGKILL');
  });

  it('first start: a generated password in a 0600 file, a 0700 data dir, and no way in without it', async () => {
    assert.equal(mode(data), 0o700);
    assert.equal(mode(join(data, 'redis')), 0o700);
    assert.equal(mode(join(data, 'redis', 'password')), 0o600);
    assert.match(password(), /^[0-9a-f]{64}$/);
    // The password is in a 0600 config file, not on the command line every user can read.
    const [pid] = redisServersIn(join(data, 'redis'));
    assert.ok(pid);
    assert.ok(!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(password()));

    // Attack: another local process talks to it without the password, or with a guessed one.
    const anonymous = await raw(state().port, 'SET pushci:owned 1\r\nKEYS *\r\nFLUSHALL\r\n');
    assert.deepEqual(
      anonymous
        .trim()
        .split('\r\n')
        .map((l) => l.split(' ')[0]),
      ['-NOAUTH', '-NOAUTH', '-NOAUTH'],
    );
    const guessed = await raw(state().port, 'AUTH guess\r\nKEYS *\r\n');
    assert.match(guessed, /^-WRONGPASS.*\r\n-NOAUTH/);
    // Control: pushci (which reads the file) gets in, and nothing was written by the attacker.
    const owner = client(password());
    await owner.connect();
    assert.equal(await owner.ping(), 'PONG');
    assert.equal(await owner.exists('pushci:owned'), 0);
    owner.disconnect();
  });

  it('a worker in the same folder joins the serve’s Redis, runs a build, and leaves it running when it exits', async () => {
    const worker = spawnPushci(['worker'], env());
    procs.push(worker);
    await waitFor(() => worker.output.join('').includes('workers started'), 60_000, 'the worker to start');
    assert.match(worker.output.join(''), /joined the embedded Redis of the pushci serve in this data dir/);
    const id = await push();
    const done = await waitFor(
      async () => ((v) => (v.status === 'success' ? v : null))(await view(id)),
      30_000,
      'the build',
    );
    assert.equal(done.status, 'success');
    const before = state();

    worker.proc.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
    // Still the one redis-server the serve started, and the serve still stores pushes in it.
    assert.deepEqual(redisServersIn(join(data, 'redis')), [before.pid]);
    assert.deepEqual(state(), before);
    const owner = client(password());
    await owner.connect();
    assert.equal(await owner.ping(), 'PONG');
    owner.disconnect();
    const next = await push();
    assert.equal((await view(next)).status, 'queued');

    // doctor in the same folder finds the same Redis, and leaves it running too.
    const doctor = spawnPushci(['doctor'], env({ PUSHCI_PUBLIC_URL: serve.base }));
    await doctor.exited;
    assert.match(
      doctor.output.join(''),
      new RegExp(
        `✔ Redis\\s+no REDIS_URL: the embedded Redis of the pushci serve in ${data} answers on 127\\.0\\.0\\.1:${before.port}`,
      ),
    );
    assert.deepEqual(redisServersIn(join(data, 'redis')), [before.pid]);
  });

  it('a second serve on the same data dir says so in one line and exits 1, touching nothing', async () => {
    const before = {
      state: readFileSync(join(data, 'redis', 'embedded.json'), 'utf8'),
      conf: statSync(join(data, 'redis', 'redis.conf')).mtimeMs,
    };
    const second = spawnPushci(['serve'], env({ PORT: String(await freePort()) }));
    assert.equal(await second.exited, 1);
    const out = second.output.join('').trim();
    assert.equal(out.split('\n').length, 1, out);
    assert.match(
      out,
      new RegExp(
        `^pushci: another pushci serve \\(pid ${serve.proc.pid}, .*\\) is already running with the data dir ${data}: stop it first`,
      ),
    );
    assert.equal(readFileSync(join(data, 'redis', 'embedded.json'), 'utf8'), before.state);
    assert.equal(statSync(join(data, 'redis', 'redis.conf')).mtimeMs, before.conf);
    assert.equal(redisServersIn(join(data, 'redis')).length, 1);
    // The first one keeps working.
    assert.equal((await fetch(`${serve.base}/healthz`)).status, 200);
    await push();
  });

  it('after a kill -9 of serve, the next serve adopts the Redis it left; stopping it stops Redis; a waiting worker joins the next', async () => {
    const first = await push();
    const { pid } = state();
    serve.proc.kill('SIGKILL');
    await serve.exited;
    assert.deepEqual(redisServersIn(join(data, 'redis')), [pid], 'the killed serve left its Redis running');

    serve = await startServe(serve.port);
    assert.match(
      serve.output.join(''),
      /adopting the embedded redis-server a previous pushci serve left running/,
    );
    assert.deepEqual(redisServersIn(join(data, 'redis')), [pid], 'no second redis-server on the same files');
    assert.equal((await view(first)).status, 'queued', 'what was stored before the crash is still there');
    await push();

    serve.proc.kill('SIGTERM');
    assert.equal(await serve.exited, 0);
    await waitFor(() => redisServersIn(join(data, 'redis')).length === 0, 15_000, 'the owner to stop Redis');

    // With nothing running at all, a worker waits for the serve; the serve starts its own Redis again on
    // the same data and port, and the worker joins it and runs what was queued.
    const worker = spawnPushci(['worker'], env());
    procs.push(worker);
    await waitFor(
      () => worker.output.join('').includes('waiting for pushci serve'),
      15_000,
      'the worker to wait',
    );
    serve = await startServe(serve.port);
    assert.equal(redisServersIn(join(data, 'redis')).length, 1);
    await waitFor(() => worker.output.join('').includes('workers started'), 60_000, 'the worker to join');
    await waitFor(async () => (await view(first)).status === 'success', 30_000, 'the queued build to run');
  });

  it('a second signal exits at once, and still stops the embedded Redis', async () => {
    for (const p of procs.splice(0)) {
      p.proc.kill('SIGTERM');
      await p.exited;
    }
    await waitFor(() => redisServersIn(join(data, 'redis')).length === 0, 15_000, 'Redis to stop');
    writeFileSync(
      join(pipelines, 'slow.yml'),
      `repository: octo-org/slow\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: sleep 60\n`,
    );
    const port = await freePort();
    // With workers, and a grace long enough that the first signal alone would wait for the job.
    const p = spawnPushci(['serve'], env({ PORT: String(port), PUSHCI_SHUTDOWN_GRACE_MS: '60000' }));
    procs.push(p);
    await waitFor(() => p.output.join('').includes('pushci is listening'), 60_000, 'serve to listen');
    serve = { ...p, base: `http://127.0.0.1:${port}`, port };
    const r = await sendGithub(
      serve.base,
      githubPush({ repo: 'octo-org/slow', before: repo.commits[0]!, after: repo.commits[0]! }),
      's',
    );
    assert.equal(r.status, 202, r.text);
    const id = r.json.builds[0].id as string;
    await waitFor(async () => (await view(id)).status === 'running', 30_000, 'the job to start');
    const redisPid = state().pid;
    assert.deepEqual(redisServersIn(join(data, 'redis')), [redisPid]);
    p.proc.kill('SIGTERM');
    await waitFor(() => p.output.join('').includes('stopping'), 10_000, 'the first signal to be taken');
    p.proc.kill('SIGINT');
    assert.equal(await p.exited, 1);
    assert.match(p.output.join(''), /second signal: exiting now/);
    await waitFor(
      () => redisServersIn(join(data, 'redis')).length === 0,
      15_000,
      'the embedded Redis to stop after the second signal',
    );
  });
});
