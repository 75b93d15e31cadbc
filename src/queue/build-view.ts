import type { EventKind } from '../core/event.ts';
import type { BuildView, JobView } from '../model.ts';
import type { BuildRecord } from './build-record.ts';

/** What started a build, as the builds list filters it. */
export function eventOf(r: BuildRecord): EventKind {
  return r.meta.event;
}

function durationMs(start: string | null, end: string | null): number | null {
  return start && end ? Date.parse(end) - Date.parse(start) : null;
}

/** The public shape (`GET /api/builds/:id`, outbound `data.build`). */
export function toView(r: BuildRecord, publicUrl: string): BuildView {
  const jobs: JobView[] = r.def.jobs.map((j) => {
    const s = r.jobs.get(j.name)!;
    return {
      name: j.name,
      display_name: j.title ?? j.name,
      group: j.group ?? null,
      matrix: j.matrix?.values ?? null,
      outputs: s.outputs ?? {},
      annotations: s.annotations ?? [],
      summary: s.summary ?? null,
      status: s.status,
      needs: j.needs,
      attempt: s.attempt,
      exit_code: s.exit_code,
      reason: s.reason,
      started_at: s.started_at,
      finished_at: s.finished_at,
      duration_ms: durationMs(s.started_at, s.finished_at),
      runner: s.runner ?? null,
    };
  });
  const m = r.meta;
  return {
    id: m.id,
    number: r.number,
    pipeline: m.pipeline,
    status: r.status,
    reason: r.reason,
    superseded_by: r.supersededBy,
    forge: m.forge,
    repository: m.repository,
    ref: m.ref,
    branch: m.branch,
    tag: m.tag,
    sha: m.sha,
    before: m.before,
    message: m.message,
    pusher: m.pusher,
    delivery_id: m.delivery_id,
    event: m.event,
    rerun_of: m.rerun_of,
    pull_request: m.pull_request,
    cron: m.cron,
    inputs: m.inputs,
    approval: r.approval,
    url: `${publicUrl}/api/builds/${m.id}`,
    html_url: `${publicUrl}/#/builds/${m.id}`,
    created_at: m.created_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    duration_ms: durationMs(r.started_at, r.finished_at),
    unsandboxed: jobs.some((j) => j.runner === 'host'),
    jobs,
  };
}
