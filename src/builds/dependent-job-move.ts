import { isFinal, type JobStatus } from '../core/states.ts';
import type { BuildRecord } from '../queue/build-record.ts';
import { runsAfterCancel } from './lifecycle.ts';

/** Where a pending job that needs others goes once they have all ended. */
export type DependentJobMove = { to: 'queued' } | { to: 'skipped' | 'canceled'; reason: string };

/**
 * Decides a pending job's next state from the jobs it needs and its `if:` (null: one of them has not
 * ended yet). A cancelled build cancels the job instead of starting it, unless its if: calls always()
 * or cancelled().
 */
export function dependentJobMove(
  record: BuildRecord,
  def: BuildRecord['def']['jobs'][number],
): DependentJobMove | null {
  const needs = def.needs.map((n) => ({
    def: record.def.jobs.find((j) => j.name === n)!,
    state: record.jobs.get(n)!,
  }));
  if (!needs.every((n) => isFinal(n.state.status))) return null;
  const allPassed = needs.every((n) => passed(n.state.status, n.def.continueOnError));
  const anyFailed = needs.some(
    (n) => n.state.status !== 'skipped' && !passed(n.state.status, n.def.continueOnError),
  );
  // A cancelled build runs only the jobs whose if: calls always() or cancelled(), as on GitHub (the
  // worker evaluates the rest of the condition, with cancelled() true).
  const run = record.cancelReason
    ? runsAfterCancel(record, def.name)
    : def.if === 'always' || (def.if === 'success' ? allPassed : anyFailed);
  if (run) return { to: 'queued' };
  return {
    to: record.cancelReason ? 'canceled' : 'skipped',
    reason:
      record.cancelReason ??
      (def.if === 'failure' ? 'no job it needs failed' : 'a job it needs did not succeed'),
  };
}

/** A job's outcome as its dependents see it: continue-on-error turns a failure into a pass; skipped is no pass. */
function passed(status: JobStatus, continueOnError: boolean): boolean {
  return status === 'success' || (continueOnError && status === 'failure');
}
