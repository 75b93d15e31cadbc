import type { Value } from '../pipelines/expr/values.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import type { BuildMeta } from '../queue/build-record.ts';

type Obj = { [k: string]: Value };

/** The event name GitHub would give what started this build (a re-run: what started the original). */
export function eventName(m: Pick<BuildMeta, 'event' | 'original_event'>): string {
  const kind = m.event === 'rerun' ? m.original_event : m.event;
  switch (kind) {
    case 'manual':
      return 'workflow_dispatch';
    case 'pull_request':
      return 'pull_request';
    case 'schedule':
      return 'schedule';
    default:
      return 'push';
  }
}

/**
 * The `github` context of a job. Values from the payload (branch, message, pusher) are data here: they
 * reach scripts only as environment variables.
 */
export function githubContext(
  record: { meta: BuildMeta; number: number; def: Pick<Pipeline, 'name' | 'title'> },
  job: string,
  workspace: string,
  attempt: number,
): Obj {
  const m = record.meta;
  const refName = m.branch ?? m.tag ?? m.ref.replace(/^refs\/(heads|tags|pull)\//, '');
  const pr = m.pull_request;
  return {
    action: '',
    actor: m.pusher ?? '',
    triggering_actor: m.pusher ?? '',
    base_ref: pr?.target_branch ?? '',
    head_ref: pr?.source_branch ?? '',
    event_name: eventName(m),
    event: {
      ref: m.ref,
      before: m.before,
      after: m.sha,
      head_commit: { id: m.sha, message: m.message ?? '' },
      repository: { full_name: m.repository, name: m.repository.split('/').at(-1) ?? '' },
      pusher: { name: m.pusher ?? '' },
      ...(pr
        ? {
            number: pr.number,
            action: pr.action,
            pull_request: {
              number: pr.number,
              title: pr.title ?? '',
              head: { ref: pr.source_branch, sha: m.sha, repo: { full_name: pr.head_repository } },
              base: { ref: pr.target_branch, repo: { full_name: m.repository } },
            },
          }
        : {}),
      ...(m.cron ? { schedule: m.cron } : {}),
      ...(m.inputs && Object.keys(m.inputs).length > 0 ? { inputs: m.inputs } : {}),
    },
    job,
    ref: m.ref,
    ref_name: refName,
    ref_type: m.tag !== null ? 'tag' : 'branch',
    repository: m.repository,
    repository_owner: m.repository.split('/')[0] ?? '',
    run_attempt: String(attempt),
    run_id: m.id,
    run_number: String(record.number),
    server_url: '',
    sha: m.sha,
    workflow: record.def.title ?? record.def.name,
    workspace,
  };
}
