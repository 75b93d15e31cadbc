import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { processesMatching, runDigits } from '../helpers/processes.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import { waitFor } from '../helpers/receiver.ts';
import { buildEnded, jobLog, pipelineHead, pushBuild } from '../helpers/push-build.ts';

const SECRET = 'runner-secret';

describe('runner', () => {
  const marker = `pushci-tree-${randomUUID().slice(0, 8)}`;
  const d = runDigits(); // this run's sleeps: `sleep ${d}0` … `sleep ${d}4`

  const s = suiteServer({
    history: [{ 'a.txt': 'a\n' }],
    pipelines: (repo) => {
      const head = (name: string) => pipelineHead(name, repo.dir);
      return {
        'tree.yml': `${head('tree')}jobs:
  hang:
    steps:
      # The step's own timeout, which starts with the step: the job's covers the checkout too, which
      # took 7.5 s on a loaded machine, and the job then timed out before its step began.
      - timeout-minutes: 0.05
        run: |
          sleep ${d}0 &
          bash -c 'sleep ${d}1 & sleep ${d}2' &
          setsid sleep ${d}3 &
          echo started ${marker}
          sleep ${d}4
`,
        'graph.yml': `${head('graph')}jobs:
  first:
    steps:
      - run: echo one
  broken:
    needs: first
    steps:
      - run: |
          echo "about to fail"
          exit 3
      - run: echo never
  after-broken:
    needs: broken
    steps:
      - run: echo skipped
  cleanup:
    needs: broken
    if: always()
    steps:
      - run: echo cleaning
  tolerated:
    continue-on-error: true
    steps:
      - run: exit 1
`,
        'secret.yml': `${head('secret')}jobs:
  show:
    steps:
      - env:
          TOKEN: \${{ secrets.DEPLOY }}
        run: |
          echo "token is $TOKEN"
          printf 'line two of it\\n'
`,
      };
    },
    env: {
      GITHUB_WEBHOOK_SECRET: SECRET,
      PUSHCI_KILL_GRACE_MS: '500',
      PUSHCI_SECRET_DEPLOY: 'hunter2-very-secret',
    },
  });

  const push = (repoName: string) =>
    pushBuild(s.server, { name: repoName, sha: s.repo.commits[0]!, secret: SECRET });
  const finished = (id: string) => buildEnded(s.server, id, 60_000);
  const log = (id: string, job: string) => jobLog(s.server, id, job);

  it('kills the whole process tree on timeout, background and setsid daemons included', async () => {
    const id = await push('tree');
    const b = await finished(id);
    assert.equal(b.status, 'failure');
    assert.match(b.jobs[0]?.reason ?? '', /timed out/);
    const text = await log(id, 'hang');
    assert.match(text, new RegExp(`started ${marker}`));
    const left = processesMatching(new RegExp(`^sleep ${d}[0-4]$`));
    assert.deepEqual(left, [], 'no step process may survive the timeout');
  });

  it('runs the job graph: failure skips dependents, always() still runs, continue-on-error tolerates', async () => {
    const id = await push('graph');
    const b = await finished(id);
    const jobs = Object.fromEntries(
      b.jobs.map((j: { name: string; status: string; exit_code: number | null }) => [
        j.name,
        [j.status, j.exit_code],
      ]),
    );
    assert.deepEqual(jobs, {
      first: ['success', 0],
      broken: ['failure', 3],
      'after-broken': ['skipped', null],
      cleanup: ['success', 0],
      tolerated: ['failure', 1],
    });
    assert.equal(b.status, 'failure');
    // The build says which job decided it; the tolerated failure is not one of them.
    assert.equal(b.reason, 'job broken: step "echo "about to fail"" failed (exit code 3)');
    const text = await log(id, 'broken');
    assert.match(text, /about to fail/);
    // The step after the failure is listed as skipped, and never ran.
    assert.match(text, /step "echo never" skipped: an earlier step failed/);
    assert.doesNotMatch(text, /Z {3}never$/m);
  });

  it('masks secret values in logs', async () => {
    const id = await push('secret');
    const b = await finished(id);
    assert.equal(b.status, 'success');
    const text = await log(id, 'show');
    assert.match(text, /token is \*{8}/);
    assert.doesNotMatch(text, /hunter2/);
    // Every job's workspace (named from ids, never from refs) goes right after the job's result.
    const workspaces = join(s.server.config.dataDir, 'workspaces');
    await waitFor(() => readdirSync(workspaces).length === 0 || null, 10_000, 'the workspaces removed');
  });
});
