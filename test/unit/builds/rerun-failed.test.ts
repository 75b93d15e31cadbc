import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobsToRerun } from '../../../src/builds/rerun-failed.ts';
import type { JobStatus } from '../../../src/model.ts';

const job = (name: string, status: JobStatus, ...needs: string[]) => ({ name, status, needs });

describe('which jobs a re-run of failed jobs runs', () => {
  it('the failed, errored and canceled jobs and everything downstream of them', () => {
    const jobs = [
      job('lint', 'success'),
      job('unit', 'failure', 'lint'),
      job('e2e', 'canceled', 'lint'),
      job('package', 'skipped', 'unit'),
      job('deploy', 'skipped', 'package', 'e2e'),
      job('docs', 'success'),
      job('notify', 'success', 'docs'),
      job('flaky', 'error'),
    ];
    assert.deepEqual([...jobsToRerun(jobs)].sort(), ['deploy', 'e2e', 'flaky', 'package', 'unit']);
  });

  it('nothing when nothing failed', () => {
    assert.equal(jobsToRerun([job('a', 'success'), job('b', 'skipped', 'a')]).size, 0);
  });
});
