import { formatDiagnostic, type Diagnostic } from '../pipelines/diagnostic.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import type { PipelineSet } from '../pipelines/pipeline-set.ts';

/** Diagnostics as the API shows them: each with its `file:line:col: message` text. */
export const withText = (ds: readonly Diagnostic[]) => ds.map((d) => ({ ...d, text: formatDiagnostic(d) }));

/** A pipeline in force as `GET /api/pipelines` lists it: its file's state and problems, events, jobs. */
export function pipelineView(set: PipelineSet, p: Pipeline) {
  const file = set.files.find((f) => f.pipeline === p.name);
  return {
    name: p.name,
    file: p.file,
    state: file?.state ?? 'ok',
    since: file?.since ?? set.loadedAt,
    problems: withText(file?.diagnostics ?? []),
    repository: p.repository,
    forge: p.forge,
    jobs: p.jobs.map((j) => ({ name: j.name, needs: j.needs, steps: j.steps.length })),
    notify: p.notify.length,
    concurrency: p.concurrency,
    commit_status: p.commitStatus,
    events: [
      ...(p.trigger ? ['push'] : []),
      ...(p.pullRequest ? ['pull_request'] : []),
      ...((p.schedules ?? []).length > 0 ? ['schedule'] : []),
    ],
    schedules: p.schedules ?? [],
    inputs: p.inputs ?? [],
  };
}
