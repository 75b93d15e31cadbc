import type { EventKind } from '../core/event.ts';
import type { BuildStatus, JobStatus } from '../core/states.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import type { BuildMeta, BuildRecord, JobState } from './build-record.ts';

const EMPTY_JOB: JobState = {
  attempt: 0,
  exit_code: null,
  reason: null,
  started_at: null,
  finished_at: null,
};

/** A build's hash holds each job's state in `s:<job>` and its details (JSON) in `j:<job>`. */
export const jobStatusField = (job: string) => `s:${job}`;
export const jobStateField = (job: string) => `j:${job}`;

/** A build record from its Redis hash and its pipeline definition. */
export function parseBuildHash(hash: Record<string, string>, def: Pipeline): BuildRecord {
  const jobs = new Map<string, JobState & { status: JobStatus }>();
  for (const j of def.jobs) {
    const details = hash[jobStateField(j.name)];
    const state = details ? (JSON.parse(details) as JobState) : EMPTY_JOB;
    jobs.set(j.name, { ...state, status: (hash[jobStatusField(j.name)] ?? 'pending') as JobStatus });
  }
  return {
    meta: normalizeMeta(JSON.parse(hash.meta!) as BuildMeta & LegacyMeta),
    number: Number(hash.number ?? 0),
    def,
    status: hash.status as BuildStatus,
    reason: hash.reason || null,
    started_at: hash.started_at || null,
    finished_at: hash.finished_at || null,
    jobs,
    notified: hash.notified === '1',
    cancelReason: hash.cancel_reason || null,
    supersededBy: hash.superseded_by || null,
    group: hash.group || null,
    approval: hash.approved_at ? { by: hash.approved_by ?? '', at: hash.approved_at } : null,
  };
}

/** Records written before builds had an `event` said `trigger: push|manual|rerun`. */
interface LegacyMeta {
  trigger?: 'push' | 'manual' | 'rerun';
}

function normalizeMeta(m: BuildMeta & LegacyMeta): BuildMeta {
  if (m.event) return m;
  const { trigger, ...rest } = m;
  const event: EventKind = trigger === 'push' || trigger === undefined ? (m.tag ? 'tag' : 'push') : trigger;
  const rerunOf = event === 'rerun' && m.delivery_id.startsWith('rerun:') ? m.delivery_id.slice(6) : null;
  return {
    ...rest,
    event,
    rerun_of: rerunOf,
    original_event: event === 'rerun' ? (m.tag ? 'tag' : 'push') : event,
    pull_request: null,
    cron: null,
    inputs: {},
  };
}
