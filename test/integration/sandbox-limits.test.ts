import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobDirs, JobLimits } from '../../src/runner/backend.ts';
import { jobDirsIn } from '../../src/runner/job-dirs.ts';
import { findCgroups, sweepCgroups } from '../../src/runner/backends/sandbox/cgroups.ts';
import { sandboxBackend } from '../../src/runner/backends/sandbox/sandbox-backend.ts';
import { runStep } from '../../src/runner/run-step.ts';
import { makeRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

const MiB = 1024 * 1024;
const LIMITS: JobLimits = { processes: 40, memoryBytes: 64 * MiB, diskBytes: 24 * MiB, openFiles: 64 };

function jobDirs(): JobDirs {
  const dirs = jobDirsIn(join(mkdtempSync(join(tmpdir(), 'pushci-limits-')), 'workspaces', 'job'));
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  return dirs;
}

/** Runs one script in a fresh sandboxed job with LIMITS; returns its result and output. */
async function run(
  script: string,
  cgroups: Awaited<ReturnType<typeof findCgroups>>,
  shell: string | null = null,
) {
  const dirs = jobDirs();
  const backend = sandboxBackend({ hide: [], home: null, cgroups, diskCheckMs: 200 });
  const rt = await backend.prepare({
    id: `limits-${process.pid}-${Date.now()}`,
    dirs,
    readOnly: [],
    network: 'none',
    limits: LIMITS,
  });
  const lines: string[] = [];
  try {
    const res = await runStep(rt, {
      script,
      shell,
      scriptFile: join(dirs.scripts, 'step.sh'),
      cwd: dirs.src,
      env: { PATH: process.env.PATH!, ...rt.env },
      timeoutMs: 60_000,
      killGraceMs: 500,
      onLine: (_s, l) => lines.push(l),
    });
    return { ...res, out: lines.join('\n') };
  } finally {
    await rt.destroy();
  }
}

const modes: Array<['cgroups' | 'rlimits', Awaited<ReturnType<typeof findCgroups>>]> = [['rlimits', null]];

describe('per-job limits of the sandbox', async () => {
  const cg = await findCgroups();
  if (cg) modes.unshift(['cgroups', cg]);

  for (const [mode, cgroups] of modes) {
    describe(`with ${mode}${mode === 'cgroups' ? ` (v${cgroups!.version})` : ''}`, () => {
      it('caps processes', async (t) => {
        if (mode === 'rlimits' && process.getuid?.() === 0) {
          // Linux does not apply RLIMIT_NPROC to root; as root pushci limits processes with cgroups.
          t.skip('RLIMIT_NPROC does not bind root');
          return;
        }
        // dash, not bash: bash retries a failed fork for seconds before giving up.
        const r = await run(
          'for i in $(seq 80); do sleep 30 & done; echo "started them all"',
          cgroups,
          'sh -e {0}',
        );
        assert.doesNotMatch(r.out, /started them all/);
        assert.notEqual(r.exitCode, 0);
        if (mode === 'cgroups') assert.match(r.limit ?? '', /process limit of 40 \(PUSHCI_JOB_PROCESSES\)/);
        else assert.match(r.out, /fork|Resource temporarily unavailable/);
      });

      it('caps memory', async () => {
        const r = await run(
          `awk 'BEGIN { s = sprintf("%300000000s", ""); print "allocated", length(s) }'`,
          cgroups,
        );
        assert.doesNotMatch(r.out, /^allocated \d+/m);
        assert.notEqual(r.exitCode, 0);
        if (mode === 'cgroups')
          assert.match(r.limit ?? '', /out of memory: the job's memory limit is 64 MiB/);
      });

      it('caps one big file at the disk limit', async () => {
        const r = await run('head -c 100M /dev/zero > big; echo "wrote it"', cgroups);
        assert.doesNotMatch(r.out, /wrote it/);
        assert.match(r.limit ?? '', /filled the job's disk limit of 24 MiB \(PUSHCI_JOB_DISK\)/);
      });

      it('stops a step that fills the disk with many files', async () => {
        const r = await run(
          'for i in $(seq 40); do head -c 1M /dev/zero > "f$i"; done; echo "wrote 40 MiB"; sleep 30',
          cgroups,
        );
        assert.match(r.limit ?? '', /filled the job's disk limit of 24 MiB/);
      });

      it('caps open files, and the step cannot raise it', async () => {
        const r = await run('ulimit -n; ulimit -Hn; ulimit -n 4096 || echo "cannot raise"', cgroups);
        assert.match(r.out, /^64\n64\n/);
        assert.match(r.out, /cannot raise/);
      });

      if (mode === 'cgroups')
        it('removes the job cgroups of a dead worker, never those of a live one', async () => {
          const parent = cgroups!.version === 2 ? cgroups!.base : cgroups!.pids;
          const dead = join(parent, '999999999-b1-j-1');
          const live = join(parent, `${process.pid}-b2-j-1`);
          mkdirSync(dead, { recursive: true });
          mkdirSync(live, { recursive: true });
          await sweepCgroups(cgroups!);
          assert.ok(!existsSync(dead), 'the dead worker’s cgroup is gone');
          assert.ok(existsSync(live), 'a live worker’s cgroup stays, even while empty between steps');
          rmdirSync(live);
        });

      if (mode === 'cgroups')
        it('a step cannot tell from the host’s cgroup tree which builds and jobs run beside it', async () => {
          // Another job of the same worker, prepared and holding its cgroups while the step looks.
          const neighbour = `build-7f3c9e-deploy-production-${process.pid}`;
          const backend = sandboxBackend({ hide: [], home: null, cgroups, diskCheckMs: 200 });
          const other = await backend.prepare({
            id: neighbour,
            dirs: jobDirs(),
            readOnly: [],
            network: 'none',
            limits: LIMITS,
          });
          try {
            const parents = cgroups!.version === 2 ? [cgroups!.base] : [cgroups!.pids, cgroups!.memory];
            const r = await run(`ls -1 ${parents.join(' ')}; echo listed`, cgroups);
            assert.equal(r.exitCode, 0, r.out);
            const names = r.out.split('\n').filter((l) => /^\d+-/.test(l));
            // Control: the tree is there to read (the two jobs' cgroups, by this worker's pid).
            assert.ok(
              names.filter((n) => n.startsWith(`${process.pid}-`)).length >= 2,
              `both jobs' cgroups are listed: ${r.out}`,
            );
            assert.doesNotMatch(r.out, /deploy-production|7f3c9e/, 'the other job’s build id and name');
            assert.doesNotMatch(r.out, /limits-\d+-\d+/, 'its own job id');
          } finally {
            await other.destroy();
          }
        });

      it('lets ordinary work within the limits through', async () => {
        const r = await run(
          'for i in 1 2 3; do sleep 0.1 & done; wait; head -c 1M /dev/zero > f; echo fine',
          cgroups,
        );
        assert.equal(r.exitCode, 0, r.out);
        assert.equal(r.limit, null);
        assert.match(r.out, /fine/);
      });
    });
  }
});

describe('a job over a limit fails with the reason in its log', () => {
  let redis: TestRedis;
  let server: TestServer;
  const repo = makeRepo([{ 'a.txt': 'a\n' }]);
  before(async () => {
    redis = await startRedis();
    server = await startServer(
      redis,
      {
        'big.yml': `name: big
repository: octo-org/big
clone-url: ${repo.dir}
on: push
jobs:
  fill:
    steps:
      - run: head -c 100M /dev/zero > big
      - run: echo never
`,
      },
      { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_JOB_DISK: '24M' },
    );
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('fails the job, naming the limit and the setting', async () => {
    const res = await sendGithub(
      server.base,
      githubPush({ before: '0'.repeat(40), after: repo.commits[0]!, repo: 'octo-org/big' }),
      's',
    );
    assert.equal(res.status, 202);
    const id = res.json.builds[0].id as string;
    const b = await waitFor(
      async () => {
        const v = (await (await server.api(`/api/builds/${id}`)).json()) as BuildView;
        return ['success', 'failure', 'error'].includes(v.status) ? v : null;
      },
      60_000,
      'build',
    );
    assert.equal(b.status, 'failure');
    assert.match(b.jobs[0]!.reason ?? '', /filled the job's disk limit of 24 MiB \(PUSHCI_JOB_DISK\)/);
    const log = await (await server.api(`/api/builds/${id}/jobs/fill/log`)).text();
    assert.match(log, /pushci: step .* filled the job's disk limit/);
    // The next step did not run: it is listed as skipped, with no output of its own.
    assert.match(log, /step "echo never" skipped: an earlier step failed/);
    assert.doesNotMatch(log, /Z {3}never$/m);
  });
});

describe('the job log names the limits steps actually get', () => {
  // A worker cannot give its steps more than its own hard rlimit: run one under a hard open-files limit
  // of 300 and ask for 65536 (the default) and, as the control, for 64.
  const inWorker = (openFiles: number) => {
    const src = join(import.meta.dirname, '../../src');
    const code = `
      import { mkdirSync, mkdtempSync } from 'node:fs';
      import { join } from 'node:path';
      import { sandboxBackend } from ${JSON.stringify(join(src, 'runner/backends/sandbox/sandbox-backend.ts'))};
      import { runStep } from ${JSON.stringify(join(src, 'runner/run-step.ts'))};
      const root = join(mkdtempSync(join(${JSON.stringify(tmpdir())}, 'pushci-limits-')), 'workspaces', 'job');
      const dirs = { root, src: join(root, 'src'), scripts: join(root, 'scripts'), tmp: join(root, 'tmp'), home: join(root, 'home') };
      for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
      const o = { id: 'nofile-' + process.pid, dirs, readOnly: [], network: 'none',
        limits: { processes: 0, memoryBytes: 0, diskBytes: 0, openFiles: ${openFiles} } };
      const backend = sandboxBackend({ hide: [], home: null, cgroups: null });
      console.log(backend.describe(o));
      const rt = await backend.prepare(o);
      const lines = [];
      await runStep(rt, { script: 'echo "step: $(ulimit -n)"', shell: null, scriptFile: join(dirs.scripts, 's.sh'),
        cwd: dirs.src, env: { PATH: process.env.PATH, ...rt.env }, timeoutMs: 30000, killGraceMs: 500,
        onLine: (_s, l) => lines.push(l) });
      await rt.destroy();
      console.log(lines.join('\\n'));
    `;
    return execFileSync(
      'prlimit',
      ['--nofile=300:300', '--', process.execPath, '--input-type=module', '-e', code],
      {
        encoding: 'utf8',
      },
    );
  };

  it('says when the worker’s own hard limit lowered one, and the step gets that value', () => {
    const out = inWorker(65536);
    assert.match(out, /limits: 300 open files \(the worker's own hard limit; configured 65536\)/);
    assert.match(out, /^step: 300$/m);
  });

  it('control: a limit under the worker’s own is shown and applied as configured', () => {
    const out = inWorker(64);
    assert.match(out, /limits: 64 open files, as rlimits\)/);
    assert.match(out, /^step: 64$/m);
  });
});
