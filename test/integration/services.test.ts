import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/receiver.ts';
import { LogModel } from '../../src/http/dashboard/log-model.js';
import { suiteServer } from '../helpers/suite-server.ts';
import { buildEnded, jobLog, pipelineHead, pushAndWait, pushBuild } from '../helpers/push-build.ts';

const SECRET = 'services-secret';
const TAG = randomUUID().slice(0, 8);
/** A fixed port the attack job's service listens on, in its own sandbox. */
const FIXED = 20_000 + Math.floor(Math.random() * 20_000);
// A folder the steps can see (the sandbox shows / read-only; /tmp is its own): the test opens a gate there.
const GATES = mkdtempSync('/var/tmp/pushci-test-services-');

/** Host pids whose command line holds `marker`. */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(marker)) out.push(Number(e));
    } catch {
      // Gone.
    }
  }
  return out;
}

const hostAddresses = () =>
  Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);

const reachable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port, timeout: 3000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('timeout', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
  });

// A TCP server in python (installed on the workers), as a `run: |` block: answers each client with one line.
const echoServer = (marker: string) =>
  indent(
    `exec python3 -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); print("listening", flush=True)
while True:
    c,_=s.accept(); c.sendall(("hello from " + sys.argv[2] + "\\n").encode()); c.close()' "$PORT" ${marker}`,
    10,
  );

const indent = (text: string, n: number) =>
  text
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

describe('services: processes next to a job (real sandbox)', () => {
  let sentinel: ReturnType<typeof createServer>;
  let sentinelPort: number;

  before(async () => {
    // Something of this machine's a service must not reach (on every address, loopback included).
    sentinel = createServer((c) => c.destroy());
    await new Promise<void>((r) => sentinel.listen(0, '0.0.0.0', r));
    sentinelPort = (sentinel.address() as { port: number }).port;
  });
  const s = suiteServer({
    pipelines: (repo) => {
      const head = (name: string) => pipelineHead(name, repo.dir);
      return {
        'redis.yml': `${head('redis')}jobs:
  test:
    services:
      cache:
        run: exec redis-server --port $PORT --save '' --appendonly no --bind 127.0.0.1
        ready: redis-cli -p $PORT ping
        env:
          UNUSED: \${{ github.sha }}
    steps:
      - run: |
          redis-cli -p $SERVICE_CACHE_PORT set greeting "hi-${TAG}"
          echo "got: $(redis-cli -p \${{ job.services.cache.port }} get greeting)"
          echo "host: $SERVICE_CACHE_HOST"
`,
        'slow.yml': `${head('slow')}jobs:
  test:
    services:
      never:
        run: |
          echo "booting slow-${TAG}"
          exec sleep 600
        ready-timeout: 2
    steps:
      - run: echo "the step ran"
`,
        'crash.yml': `${head('crash')}jobs:
  test:
    services:
      db:
        run: |
          echo "config error crash-${TAG}" >&2
          exit 3
        ready-timeout: 30
    steps:
      - run: echo "the step ran"
`,
        'cancel.yml': `${head('cancel')}jobs:
  test:
    services:
      echo:
        run: |
${echoServer(`cancel-${TAG}`)}
    steps:
      - run: |
          echo "step up"
          sleep 600
`,
        'timeout.yml': `${head('timeout')}jobs:
  test:
    # The job's timeout covers the checkout and the service's start: room for a busy machine.
    timeout-minutes: 0.2
    services:
      echo:
        run: |
${echoServer(`timeout-${TAG}`)}
    steps:
      - run: |
          echo "step up"
          sleep 600
`,
        'attack.yml': `${head('attack')}jobs:
  owner:
    services:
      echo:
        port: ${FIXED}
        run: |
          for dest in 10.0.2.2 ${hostAddresses().join(' ')}; do
            if timeout 3 bash -c "exec 3<>/dev/tcp/$dest/${sentinelPort}"; then echo "ATTACK service-to-host $dest SUCCEEDED"
            else echo "ATTACK service-to-host $dest BLOCKED"; fi
          done
${echoServer(`attack-${TAG}`)}
    steps:
      - run: |
          echo "control: $(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${FIXED} && cat <&3')"
          echo "owner waiting"
          for i in $(seq 600); do [ -e ${GATES}/open ] && break; sleep 0.2; done
  other:
    steps:
      - run: |
          for i in $(seq 600); do [ -e ${GATES}/owner-up ] && break; sleep 0.2; done
          if timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${FIXED} && cat <&3' | grep -q hello; then
            echo "ATTACK other-job SUCCEEDED"
          else
            echo "ATTACK other-job BLOCKED"
          fi
`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_CONCURRENCY: '3' },
  });
  after(() => {
    sentinel?.close();
    rmSync(GATES, { recursive: true, force: true });
  });

  const push = (name: string) =>
    pushBuild(s.server, { name, sha: s.repo.commits[0]!, secret: SECRET, ref: 'refs/heads/main' });
  const finished = (id: string) => buildEnded(s.server, id, 120_000);
  const log = (id: string, job = 'test') => jobLog(s.server, id, job);

  it('a step talks to a redis-server service; the service is gone after the job', async () => {
    const id = await push('redis');
    const b = await finished(id);
    const text = await log(id);
    assert.equal(b.status, 'success', text);
    assert.match(text, /pushci: starting service "cache" on 127\.0\.0\.1:\d+/);
    assert.match(text, /pushci: service "cache" is ready on 127\.0\.0\.1:\d+/);
    assert.match(text, new RegExp(`got: hi-${TAG}`));
    assert.match(text, /host: 127\.0\.0\.1/);
    // Its log is a section of its own after the steps, closed when the job stopped it.
    const section = text.slice(text.indexOf('▶ service cache'));
    assert.ok(text.indexOf('▶ service cache') > text.lastIndexOf('pushci: step '), text);
    assert.match(section, /Ready to accept connections/);
    assert.match(section, /pushci: service "cache" stopped with the job after \d+\.\d s/);
    // Written at the job's end, its lines keep the times they were printed: the build page's section
    // runs from the service's start (before the first step) to its stop (after the last), not "0 ms".
    const model = new LogModel();
    for (const line of text.split('\n').filter(Boolean)) model.add(line);
    const service = model.sections.find((x) => x.name === 'service cache')!;
    const steps = model.sections.filter((x) => x.kind === 'step' && x !== service);
    assert.ok(service.start! <= steps[0]!.start!, 'the service started before the first step');
    assert.ok(service.end! >= steps.at(-1)!.end!, 'and stopped after the last');
    assert.ok(service.end! - service.start! > 0);
    // redis-server shows "redis-server 127.0.0.1:<port>" as its command line.
    const port = /starting service "cache" on 127\.0\.0\.1:(\d+)/.exec(text)![1]!;
    assert.deepEqual(processesWith(`redis-server 127.0.0.1:${port}`), []);
  });

  it('a service that never gets ready fails the job after ready-timeout, with its log shown', async () => {
    const id = await push('slow');
    const b = await finished(id);
    const text = await log(id);
    assert.equal(b.status, 'failure', text);
    const job = b.jobs.find((j) => j.name === 'test')!;
    assert.match(
      job.reason ?? '',
      /service "never" was not listening on port \d+ after 2 s \(ready-timeout\)/,
    );
    assert.match(text, new RegExp(`▶ service never[\\s\\S]*booting slow-${TAG}`));
    assert.doesNotMatch(text, /the step ran/);
    assert.deepEqual(processesWith(`slow-${TAG}`), []);
  });

  it('a service that exits at start fails the job with its exit code and output', async () => {
    const id = await push('crash');
    const b = await finished(id);
    const text = await log(id);
    assert.equal(b.status, 'failure', text);
    assert.match(
      b.jobs[0]!.reason ?? '',
      /service "db" ended before it was listening on port \d+: exit code 3/,
    );
    assert.match(text, new RegExp(`config error crash-${TAG}`));
    assert.doesNotMatch(text, /the step ran/);
  });

  it('cancelling the build ends the service with the job', async () => {
    const id = await push('cancel');
    await waitFor(async () => (await log(id)).includes('step up'), 90_000, 'the step to run');
    assert.ok(processesWith(`cancel-${TAG}`).length > 0, 'the service runs while the step does');
    const res = await s.server.api(`/api/builds/${id}/cancel`, { method: 'POST' });
    assert.ok(res.ok, await res.text());
    const b = await finished(id);
    assert.equal(b.status, 'canceled');
    await waitFor(async () => processesWith(`cancel-${TAG}`).length === 0, 15_000, 'the service to end');
    assert.match(await log(id), /pushci: service "echo" stopped with the job/);
  });

  it('a job that times out ends its service too', async () => {
    const id = await push('timeout');
    const b = await finished(id);
    const text = await log(id);
    assert.equal(b.status, 'failure', text);
    assert.match(b.jobs[0]!.reason ?? '', /timed out after 0\.2 min/);
    assert.match(text, /step up/);
    assert.match(text, /pushci: service "echo" stopped with the job/);
    assert.deepEqual(processesWith(`timeout-${TAG}`), []);
  });

  it('attack: neither the host nor another job reaches a service; its own steps do', async () => {
    const id = await push('attack');
    await waitFor(async () => (await log(id, 'owner')).includes('owner waiting'), 90_000, 'owner step');
    const owner = await log(id, 'owner');
    assert.match(owner, new RegExp(`control: hello from attack-${TAG}`));
    // The service listens on its sandbox's loopback only: not on this machine's.
    assert.equal(await reachable(FIXED), false, `the host reached the service on ${FIXED}`);
    mkdirSync(GATES, { recursive: true });
    writeFileSync(join(GATES, 'owner-up'), '');
    await waitFor(
      async () => /ATTACK other-job (BLOCKED|SUCCEEDED)/.test(await log(id, 'other')),
      90_000,
      'the other job',
    );
    assert.equal(await reachable(FIXED), false);
    writeFileSync(join(GATES, 'open'), '');
    const b = await finished(id);
    assert.equal(b.status, 'success', await log(id, 'other'));
    assert.match(await log(id, 'other'), /ATTACK other-job BLOCKED/);
    // The service itself is sandboxed like a step: this machine is out of its reach.
    const own = await log(id, 'owner');
    assert.match(own, /ATTACK service-to-host 10\.0\.2\.2 BLOCKED/);
    for (const a of hostAddresses()) assert.match(own, new RegExp(`ATTACK service-to-host ${a} BLOCKED`));
    assert.doesNotMatch(own, /SUCCEEDED/);
    assert.deepEqual(processesWith(`attack-${TAG}`), []);
  });
});

describe('services: on the host runner (PUSHCI_RUNNER=host)', () => {
  let holder: ReturnType<typeof createServer>;
  let held: number;

  before(async () => {
    // A port something on this machine already listens on.
    holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    held = (holder.address() as { port: number }).port;
  });
  const s = suiteServer({
    pipelines: (repo) => {
      const head = (name: string) => pipelineHead(name, repo.dir);
      return {
        'hosted.yml': `${head('hosted')}jobs:
  test:
    services:
      echo:
        run: |
${echoServer(`host-${TAG}`)}
    steps:
      - run: |
          echo "reply: $(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SERVICE_ECHO_PORT && cat <&3")"
`,
        'taken.yml': `${head('taken')}jobs:
  test:
    services:
      echo:
        port: ${held}
        run: exec sleep 600
    steps:
      - run: echo "the step ran"
`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_RUNNER: 'host' },
  });
  after(() => {
    holder?.close();
  });

  const run = async (name: string) => {
    const sha = s.repo.commits[0]!;
    const b = await pushAndWait(s.server, {
      name,
      sha,
      secret: SECRET,
      timeoutMs: 120_000,
      ref: 'refs/heads/main',
    });
    const id = b.id;
    return { b, log: await jobLog(s.server, id, 'test') };
  };

  it('a service on a free port of this machine serves the step, and ends with the job', async () => {
    const { b, log } = await run('hosted');
    assert.equal(b.status, 'success', log);
    assert.match(log, new RegExp(`reply: hello from host-${TAG}`));
    assert.deepEqual(processesWith(`host-${TAG}`), []);
  });

  it('a fixed port already in use on this machine fails the job and says so', async () => {
    const { b, log } = await run('taken');
    assert.equal(b.status, 'failure', log);
    assert.match(
      b.jobs[0]!.reason ?? '',
      new RegExp(
        `service "echo": port ${held} is in use on this machine \\(the steps share its network here\\)`,
      ),
    );
    assert.doesNotMatch(log, /the step ran/);
  });
});
