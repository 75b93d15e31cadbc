import type { EventKind } from '../core/event.ts';
import type { BuildStatus, JobStatus } from '../core/states.ts';
import type { Annotation, BuildView } from '../model.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';

/**
 * What never changes after a build is created: the fields of its public view (`BuildView`) that are set
 * once, and the event that started the first build of a re-run chain.
 */
export interface BuildMeta extends Pick<
  BuildView,
  | 'id'
  | 'pipeline'
  | 'forge'
  | 'repository'
  | 'ref'
  | 'branch'
  | 'tag'
  | 'sha'
  | 'before'
  | 'message'
  | 'pusher'
  | 'delivery_id'
  | 'event'
  | 'rerun_of'
  | 'pull_request'
  | 'cron'
  | 'inputs'
  | 'created_at'
> {
  /** For a re-run: the event that started the first of the chain (trust decisions read it). */
  original_event: Exclude<EventKind, 'rerun'>;
}

export interface JobState {
  attempt: number;
  exit_code: number | null;
  reason: string | null;
  started_at: string | null;
  finished_at: string | null;
  /** The backend that ran the last attempt (absent before it started, and in older records). */
  runner?: 'sandbox' | 'host';
  /** The job's evaluated `outputs:` (absent: none). */
  outputs?: Record<string, string>;
  /** Annotations its steps made (absent: none). */
  annotations?: Annotation[];
  /** Its steps' $GITHUB_STEP_SUMMARY, Markdown (absent: none). */
  summary?: string;
}

export interface BuildRecord {
  meta: BuildMeta;
  number: number;
  /** The pipeline as it was when the push matched; later edits of the file do not change queued builds. */
  def: Pipeline;
  status: BuildStatus;
  reason: string | null;
  started_at: string | null;
  finished_at: string | null;
  jobs: Map<string, JobState & { status: JobStatus }>;
  /** Its build.completed is queued (the build left the active index). */
  notified: boolean;
  /** Set once someone asked to cancel the build; workers check it before and after starting a job. */
  cancelReason: string | null;
  supersededBy: string | null;
  /** Concurrency group, when the pipeline has one. */
  group: string | null;
  /** Who approved a fork's pull request build, and when. */
  approval: { by: string; at: string } | null;
}

export interface NewBuild {
  meta: BuildMeta;
  def: Pipeline;
  status: BuildStatus;
  reason: string | null;
  /** Initial status of each job. */
  jobStatus: Record<string, JobStatus>;
  /** Initial details of jobs that start finished (the jobs a re-run of failed jobs keeps). */
  jobState?: Record<string, JobState>;
  group: string | null;
  /** Jobs to put in the jobs queue in the same atomic step that stores the build. */
  queueNow: readonly string[];
  /**
   * The live event for dashboards, published in that same step: its JSON without the closing brace,
   * ending in `"number":` (the build's number is known only then).
   */
  announce: string | null;
}
