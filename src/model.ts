/** Shared types that cross folder boundaries. */
import type { EventKind, PullRequestInfo } from './core/event.ts';

export const FORGES = ['github', 'gitlab', 'gitea', 'forgejo', 'bitbucket'] as const;
export type ForgeName = (typeof FORGES)[number];

export { BUILD_STATUSES, FINAL_STATUSES, isFinal, type BuildStatus, type JobStatus } from './core/states.ts';
import type { BuildStatus, JobStatus } from './core/states.ts';

/** One job of a build as the API and outbound payloads show it. */
/** An annotation a step made with `::error::`, `::warning::` or `::notice::`, listed on the build. */
export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  /** The step that printed it. */
  step: string;
  title: string | null;
  file: string | null;
  line: number | null;
  end_line: number | null;
  col: number | null;
  end_column: number | null;
}

export interface JobView {
  name: string;
  /** What to show: the job's name: (rendered for its matrix combination), else its id. */
  display_name: string;
  /** For a combination of a matrix, the matrix job's key in the pipeline file; null otherwise. */
  group: string | null;
  /** This combination's matrix values; null for a job without a matrix. */
  matrix: Record<string, unknown> | null;
  /** Its `outputs:` as evaluated when it ended. */
  outputs: Record<string, string>;
  /** `::error::`, `::warning::` and `::notice::` lines of its steps. */
  annotations: Annotation[];
  /** What its steps wrote to $GITHUB_STEP_SUMMARY (Markdown), or null. */
  summary: string | null;
  status: JobStatus;
  needs: string[];
  attempt: number;
  exit_code: number | null;
  reason: string | null;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  /** Where its last attempt ran: `sandbox`, or `host` (no isolation); null before it started. */
  runner: 'sandbox' | 'host' | null;
}

/** A build as `GET /api/builds/:id` and outbound payloads' `data.build` show it. */
export interface BuildView {
  id: string;
  number: number;
  pipeline: string;
  status: BuildStatus;
  reason: string | null;
  /** The newer build that superseded this one (concurrency groups). */
  superseded_by: string | null;
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
  /** The build this one re-runs (event `rerun`). */
  rerun_of: string | null;
  /** The pull request it builds (event `pull_request`, or a re-run of one). */
  pull_request: PullRequestInfo | null;
  /** The cron expression that fired (event `schedule`). */
  cron: string | null;
  /** The `workflow_dispatch` inputs it runs with (event `manual` and its re-runs). */
  inputs: Record<string, string>;
  /** Who let a fork's pull request run, and when (null: it needed no approval, or has none yet). */
  approval: { by: string; at: string } | null;
  /** The API document of the build. */
  url: string;
  /** The build's page in the dashboard, for people. */
  html_url: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  /** A job of it ran on the host runner, without the sandbox (PUSHCI_RUNNER=host, or auto without support). */
  unsandboxed: boolean;
  jobs: JobView[];
}

export type OutboundEventType = 'build.queued' | 'build.started' | 'build.completed' | 'job.completed';
export const OUTBOUND_EVENT_TYPES: readonly OutboundEventType[] = [
  'build.queued',
  'build.started',
  'build.completed',
  'job.completed',
];
