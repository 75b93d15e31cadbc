import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildReason, buildStatus } from '../../../src/builds/build-status.ts';
import { dependentJobMove } from '../../../src/builds/dependent-job-move.ts';
import { runsAfterCancel } from '../../../src/builds/lifecycle.ts';
import type { BuildRecord } from '../../../src/queue/build-record.ts';
import type { JobStatus } from '../../../src/model.ts';

type J = {
  name: string;
  status: JobStatus;
  reason?: string;
  exit?: number;
  title?: string;
  continueOnError?: boolean;
};

const record = (jobs: J[], cancelReason: string | null = null) =>
  ({
    def: {
      jobs: jobs.map((j) => ({
        name: j.name,
        title: j.title ?? null,
        continueOnError: j.continueOnError ?? false,
      })),
    },
    jobs: new Map(
      jobs.map((j) => [
        j.name,
        {
          status: j.status,
          reason: j.reason ?? null,
          exit_code: j.exit ?? null,
          attempt: 1,
          started_at: null,
          finished_at: null,
        },
      ]),
    ),
    cancelReason,
  }) as unknown as BuildRecord;

const both = (r: BuildRecord) => {
  const status = buildStatus(r);
  return [status, buildReason(r, status)];
};

describe('a build’s status and reason from its jobs', () => {
  it('names the first job that failed, with its reason or exit code, and how many more did', () => {
    const r = record([
      { name: 'lint', status: 'success' },
      { name: 'unit', status: 'failure', exit: 2, title: 'Unit tests' },
      { name: 'e2e', status: 'failure', exit: 1 },
      { name: 'deploy', status: 'skipped', reason: 'a job it needs failed' },
    ]);
    assert.deepEqual(both(r), ['failure', 'job Unit tests failed (exit code 2) (and 1 more job)']);
  });

  it('an errored job decides over a failed one, with its own reason', () => {
    const r = record([
      { name: 'unit', status: 'failure', exit: 1 },
      { name: 'docker', status: 'error', reason: 'this worker cannot run the job: no sandbox' },
    ]);
    assert.deepEqual(both(r), ['error', 'job docker: this worker cannot run the job: no sandbox']);
  });

  it('a failure allowed by continue-on-error is no reason; a success has none', () => {
    const r = record([
      { name: 'optional', status: 'failure', exit: 1, continueOnError: true },
      { name: 'build', status: 'success' },
    ]);
    assert.deepEqual(both(r), ['success', null]);
  });

  it('a cancel request’s reason wins; a job canceled on its own says why', () => {
    assert.deepEqual(both(record([{ name: 'a', status: 'canceled', reason: 'x' }], 'superseded by #4')), [
      'canceled',
      'superseded by #4',
    ]);
    assert.deepEqual(both(record([{ name: 'a', status: 'canceled', reason: 'the worker shut down' }])), [
      'canceled',
      'job a: the worker shut down',
    ]);
  });

  it('a cancelled build whose jobs after the cancel (always()) all succeeded is canceled, not a success', () => {
    const r = record(
      [
        { name: 'build', status: 'success' },
        { name: 'cleanup', status: 'success' },
      ],
      'canceled through the API',
    );
    assert.deepEqual(both(r), ['canceled', 'canceled through the API']);
    // A job that failed before (or during) the cancel does not make it a failure: it was cancelled.
    assert.equal(
      buildStatus(record([{ name: 'f', status: 'failure' }], 'canceled through the API')),
      'canceled',
    );
    // The control: without a cancel, a failure decides.
    assert.equal(
      buildStatus(
        record([
          { name: 'f', status: 'failure' },
          { name: 'a', status: 'canceled' },
        ]),
      ),
      'failure',
    );
  });
});

describe('which jobs still run after a cancel', () => {
  const def = (gate: 'success' | 'failure' | 'always') =>
    ({
      def: {
        jobs: [
          { name: 'a', needs: [], if: 'success' },
          { name: 'cleanup', needs: ['a'], if: gate },
        ],
      },
      jobs: new Map([
        ['a', { status: 'canceled' }],
        ['cleanup', { status: 'pending' }],
      ]),
      cancelReason: 'canceled through the API',
    }) as unknown as BuildRecord;
  it('only a job whose if: calls always() or cancelled(), and only in a build that had started running', () => {
    const running = { ...def('always'), status: 'running' } as BuildRecord;
    assert.equal(runsAfterCancel(running, 'cleanup'), true);
    assert.deepEqual(dependentJobMove(running, running.def.jobs[1]!), { to: 'queued' });
    // Attack: a fork's pull request waiting for approval, cancelled (a newer push supersedes it): its
    // always() job must not run, approval or not.
    const waiting = { ...def('always'), status: 'pending-approval' } as BuildRecord;
    assert.equal(runsAfterCancel(waiting, 'cleanup'), false);
    assert.equal(dependentJobMove(waiting, waiting.def.jobs[1]!)?.to, 'canceled');
    const queued = { ...def('always'), status: 'queued' } as BuildRecord;
    assert.equal(runsAfterCancel(queued, 'cleanup'), false);
    // The control: a job without a status function is cancelled in a running build too.
    const plain = { ...def('success'), status: 'running' } as BuildRecord;
    assert.equal(dependentJobMove(plain, plain.def.jobs[1]!)?.to, 'canceled');
  });
});
