import type { EventKind, PullRequestInfo } from '../core/event.ts';
import type { BuildStatus, JobStatus } from '../core/states.ts';
import type { Annotation, ForgeName } from '../model.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';

/** What never changes after a build is created. */
export interface BuildMeta {
  id: string;
  pipeline: string;
  forge: ForgeName;
  repository: string;
  ref: string;
  branch: string | null;
  tag: string | null;
  sha: string;
  before: string;
  message: string | null;
  pusher: string | null;
  delivery_id: string;
  /** What started the build. */
  event: EventKind;
  /** For a re-run: the build it re-runs, and the event that started the first of the chain. */
  rerun_of: string | null;
  original_event: Exclude<EventKind, 'rerun'>;
  /** The pull request it builds (also for a re-run of one): trust decisions read `fork` from here. */
  pull_request: PullRequestInfo | null;
  /** The cron expression of a scheduled build. */
  cron: string | null;
  /** Inputs of a manual build (and its re-runs), validated against the pipeline's `workflow_dispatch`. */
  inputs: Record<string, string>;
  created_at: string;
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
