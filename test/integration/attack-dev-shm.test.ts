import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobLog, pipelineHead, pushAndWait } from '../helpers/push-build.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const SECRET = 'shm-secret';

/*
 * bubblewrap's `--dev /dev` is a tmpfs as large as half the machine's memory. Neither PUSHCI_JOB_DISK
 * (it measures the job's folder) nor, as rlimits, PUSHCI_JOB_MEMORY (tmpfs pages are no process's data)
 * counted what a step wrote there: a job with a 24 MiB disk limit filled gigabytes of the host's memory
 * and succeeded. The attack runs from a real step of a real server in the default sandbox; the control
 * uses /dev/shm as programs do (POSIX shared memory and semaphores).
 */
describe('attack: filling the sandbox’s /dev past the job’s disk limit (real sandbox)', () => {
  const s = suiteServer({
    history: [{ 'a.txt': 'a\n' }],
    pipelines: (repo) => ({
      'shm.yml': `${pipelineHead('shm', repo.dir)}jobs:
  attack:
    steps:
      - run: |
          if echo x > /dev/evil; then echo "ATTACK dev-write SUCCEEDED"; else echo "ATTACK dev-write BLOCKED"; fi
          for i in $(seq 80); do head -c 1M /dev/zero > "/dev/shm/f$i" || break; done
          echo "ATTACK shm-fill wrote $(du -sm /dev/shm | cut -f1) MiB"
          sleep 20
          echo "ATTACK shm-fill SUCCEEDED"
  control:
    steps:
      - run: |
          python3 -c "import multiprocessing as m; l = m.Lock(); l.acquire(); l.release(); print('CONTROL semaphore ok')"
          python3 -c "
          from multiprocessing import shared_memory as s
          x = s.SharedMemory(create=True, size=1 << 20); x.buf[0] = 7; y = s.SharedMemory(x.name)
          print('CONTROL shared memory', y.buf[0]); y.close(); x.close(); x.unlink()"
          head -c 4M /dev/zero > /dev/shm/small && echo "CONTROL shm file $(stat -c %s /dev/shm/small)"
          echo x > /dev/null && echo "CONTROL dev/null ok"
`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_JOB_DISK: '24M' },
  });

  it('stops the step at the disk limit and keeps the rest of /dev read-only; /dev/shm still works', async () => {
    const b = await pushAndWait(s.server, {
      name: 'shm',
      sha: s.repo.commits[0]!,
      secret: SECRET,
      timeoutMs: 120_000,
    });
    const attack = await jobLog(s.server, b.id, 'attack');
    const control = await jobLog(s.server, b.id, 'control');
    assert.match(attack, /ATTACK dev-write BLOCKED/, attack);
    assert.doesNotMatch(attack, /ATTACK shm-fill SUCCEEDED/, attack);
    const job = b.jobs.find((j) => j.name === 'attack')!;
    assert.equal(job.status, 'failure', attack);
    assert.match(job.reason ?? '', /filled the job's disk limit of 24 MiB \(PUSHCI_JOB_DISK\)/);
    assert.equal(b.jobs.find((j) => j.name === 'control')!.status, 'success', control);
    assert.match(control, /CONTROL semaphore ok/);
    assert.match(control, /CONTROL shared memory 7/);
    assert.match(control, /CONTROL shm file 4194304/);
    assert.match(control, /CONTROL dev\/null ok/);
  });
});
