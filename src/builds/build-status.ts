import type { BuildStatus } from '../core/states.ts';
import type { BuildRecord } from '../queue/build-record.ts';

/** The build's result from its jobs: error beats failure beats cancellation beats success. */
export function buildStatus(record: BuildRecord): BuildStatus {
  const jobs = record.def.jobs.map((d) => ({ d, s: record.jobs.get(d.name)!.status }));
  if (jobs.some(({ s }) => s === 'error')) return 'error';
  if (jobs.some(({ d, s }) => s === 'failure' && !d.continueOnError)) return 'failure';
  if (jobs.some(({ s }) => s === 'canceled')) return 'canceled';
  return 'success';
}
