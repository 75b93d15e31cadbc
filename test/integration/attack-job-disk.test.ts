import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobLog, pipelineHead, pushAndWait } from '../helpers/push-build.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const SECRET = 'disk-secret';

/*
 * Ways around PUSHCI_JOB_DISK, each from a real step of a real server in the default sandbox, next to a
 * control that does the same thing within the limit:
 * - bubblewrap's `--dev /dev` is a tmpfs as large as half the machine's memory. Neither the disk limit
 *   (it measured the job's folder) nor, as rlimits, the memory limit (tmpfs pages are no process's data)
 *   counted what a step wrote there: a job with a 24 MiB disk limit filled gigabytes of the host's memory.
 * - Empty files take no blocks, so `du` counted next to nothing for millions of them, while each took
 *   one of the host file system's inodes (200,000 in 16 s here: all of them within a job's timeout).
 */
describe('attack: going past the job’s disk limit (real sandbox)', () => {
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
      // 24 MiB allows 6,144 files and folders (one per 4 KiB).
      'inodes.yml': `${pipelineHead('inodes', repo.dir)}jobs:
  attack:
    steps:
      - run: |
          for d in $(seq 4); do mkdir "d$d" && (cd "d$d" && seq 5000 | xargs touch); done
          echo "ATTACK files made $(find . -type f | wc -l) in $(du -sk . | cut -f1) KiB"
          sleep 45
          echo "ATTACK files SUCCEEDED"
  control:
    steps:
      - run: |
          mkdir many && (cd many && seq 3000 | xargs touch)
          sleep 17
          echo "CONTROL files $(find many -type f | wc -l)"
`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_JOB_DISK: '24M' },
  });

  const run = async (name: string) => {
    const b = await pushAndWait(s.server, {
      name,
      sha: s.repo.commits[0]!,
      secret: SECRET,
      timeoutMs: 120_000,
    });
    const job = (j: string) => b.jobs.find((x) => x.name === j)!;
    return {
      b,
      job,
      attack: await jobLog(s.server, b.id, 'attack'),
      control: await jobLog(s.server, b.id, 'control'),
    };
  };

  it('/dev/shm counts against the disk limit and the rest of /dev is read-only; /dev/shm still works', async () => {
    const { job, attack, control } = await run('shm');
    assert.match(attack, /ATTACK dev-write BLOCKED/, attack);
    assert.doesNotMatch(attack, /ATTACK shm-fill SUCCEEDED/, attack);
    assert.equal(job('attack').status, 'failure', attack);
    assert.match(job('attack').reason ?? '', /filled the job's disk limit of 24 MiB \(PUSHCI_JOB_DISK\)/);
    assert.equal(job('control').status, 'success', control);
    assert.match(control, /CONTROL semaphore ok/);
    assert.match(control, /CONTROL shared memory 7/);
    assert.match(control, /CONTROL shm file 4194304/);
    assert.match(control, /CONTROL dev\/null ok/);
  });

  it('counts files and folders, not only their blocks: empty files cannot use up the host’s inodes', async () => {
    const { job, attack, control } = await run('inodes');
    assert.doesNotMatch(attack, /ATTACK files SUCCEEDED/, attack);
    assert.equal(job('attack').status, 'failure', attack);
    assert.match(
      job('attack').reason ?? '',
      /filled the job's disk limit of 24 MiB \(PUSHCI_JOB_DISK\): .* hold \d+ files and folders, more than one per 4 KiB of the limit \(6144\)/,
    );
    assert.equal(job('control').status, 'success', control);
    assert.match(control, /CONTROL files 3000/);
  });
});
