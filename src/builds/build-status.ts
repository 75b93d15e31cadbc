import type { BuildStatus } from '../core/states.ts';
import type { BuildRecord } from '../queue/build-record.ts';

/**
 * The build's result: a build someone cancelled (or a newer build superseded) is canceled, whatever
 * its jobs did before or after the cancel (as a cancelled run on GitHub); otherwise from its jobs,
 * error beats failure beats cancellation beats success.
 */
export function buildStatus(record: BuildRecord): BuildStatus {
  if (record.cancelReason) return 'canceled';
  const jobs = record.def.jobs.map((d) => ({ d, s: record.jobs.get(d.name)!.status }));
  if (jobs.some(({ s }) => s === 'error')) return 'error';
  if (jobs.some(({ d, s }) => s === 'failure' && !d.continueOnError)) return 'failure';
  if (jobs.some(({ s }) => s === 'canceled')) return 'canceled';
  return 'success';
}

const VERB: Partial<Record<BuildStatus, string>> = {
  error: 'errored',
  failure: 'failed',
  canceled: 'was canceled',
};

/**
 * Why a build ended as it did, from its jobs: the first job (in the file's order) that decided the
 * status, with its own reason or exit code, and how many others did the same. A cancel request's reason
 * wins; a build that succeeded has none.
 */
export function buildReason(record: BuildRecord, status: BuildStatus): string | null {
  if (record.cancelReason) return record.cancelReason;
  const verb = VERB[status];
  if (!verb) return null;
  const deciding = record.def.jobs.filter((d) => {
    const s = record.jobs.get(d.name)!.status;
    return s === status && !(status === 'failure' && d.continueOnError);
  });
  const first = deciding[0];
  if (!first) return null;
  const job = record.jobs.get(first.name)!;
  const name = `job ${first.title ?? first.name}`;
  const why = job.reason
    ? `${name}: ${job.reason}`
    : `${name} ${verb}${job.exit_code !== null ? ` (exit code ${job.exit_code})` : ''}`;
  const more = deciding.length - 1;
  return why + (more > 0 ? ` (and ${more} more job${more === 1 ? '' : 's'})` : '');
}
