/** Shared types that cross folder boundaries. */

export const FORGES = ['github', 'gitlab', 'gitea', 'forgejo', 'bitbucket'] as const;
export type ForgeName = (typeof FORGES)[number];

/** A verified push, normalised from any forge's payload. */
export interface PushEvent {
  forge: ForgeName;
  /** The forge's delivery id (X-GitHub-Delivery, X-Gitlab-Event-UUID, ...); unique per delivery. */
  deliveryId: string;
  /** `owner/name` (GitHub full_name, GitLab path_with_namespace). */
  repository: string;
  /** Full ref, e.g. `refs/heads/main` or `refs/tags/v1.2.0`. */
  ref: string;
  /** Set for branch pushes. */
  branch?: string;
  /** Set for tag pushes. */
  tag?: string;
  before: string;
  after: string;
  /** The ref was deleted (`after` is all zeros). */
  deleted: boolean;
  /** The ref was created (`before` is all zeros). */
  created: boolean;
  /** The push rewrote history (GitHub says so; GitLab does not, so it is false there). */
  forced: boolean;
  /** Message of the pushed head commit, when the payload has one. */
  headMessage: string | null;
  /** Who pushed, for display. */
  pusher: string | null;
}

export type BuildStatus = 'queued' | 'running' | 'success' | 'failure' | 'canceled' | 'error' | 'skipped';
export type JobStatus = 'pending' | BuildStatus;

export const FINAL_STATUSES: ReadonlySet<string> = new Set([
  'success',
  'failure',
  'canceled',
  'error',
  'skipped',
]);

export function isFinal(status: string): boolean {
  return FINAL_STATUSES.has(status);
}

/** One job of a build as the API and outbound payloads show it. */
export interface JobView {
  name: string;
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
  trigger: 'push' | 'manual' | 'rerun';
  url: string;
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
