import type { ForgeName } from '../model.ts';

/** What started a build. */
export const EVENT_KINDS = ['push', 'tag', 'pull_request', 'schedule', 'manual', 'rerun'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** What every event carries: the commit to build and where it came from. */
interface EventBase {
  forge: ForgeName;
  /** The forge's delivery id (X-GitHub-Delivery, ...), or `manual:…`, `schedule:…`, `rerun:<build>`. */
  deliveryId: string;
  /** `owner/name` of the repository the pipeline builds (for a pull request: the base repository). */
  repository: string;
  /** Full ref: `refs/heads/main`, `refs/tags/v1`, or the forge's pull request ref (`refs/pull/7/head`). */
  ref: string;
  /** Set for branch builds (push, schedule, manual on a branch). */
  branch?: string;
  /** Set for tag builds. */
  tag?: string;
  /** The commit before (push), the target branch's commit (pull request), or zeros. */
  before: string;
  /** The commit to build: always a commit id, never a tag object. */
  after: string;
  /** Message of the head commit, when known. */
  headMessage: string | null;
  /** Who pushed, opened the pull request or triggered the build, for display. */
  pusher: string | null;
}

/** A push of a branch (`push`) or a tag (`tag`). */
export interface PushEvent extends EventBase {
  kind: 'push' | 'tag';
  /** The ref was deleted (`after` is all zeros). */
  deleted: boolean;
  /** The ref was created (`before` is all zeros). */
  created: boolean;
  /** The push rewrote history (GitHub says so; GitLab does not, so it is false there). */
  forced: boolean;
}

/** The pull (merge) request a build is for, as the build record keeps it. */
export interface PullRequestInfo {
  number: number;
  /** The forge's action: opened, synchronize, reopened (GitHub spelling, whatever the forge). */
  action: PullRequestAction;
  title: string | null;
  /** Branch the change comes from (in `head_repository`). */
  source_branch: string;
  /** Branch it is to be merged into (in the pipeline's repository); `branches:` filters match it. */
  target_branch: string;
  /** `owner/name` the change comes from. */
  head_repository: string;
  /** The head repository is not the base repository: untrusted code, no secrets. */
  fork: boolean;
}

export const PULL_REQUEST_ACTIONS = ['opened', 'synchronize', 'reopened'] as const;
export type PullRequestAction = (typeof PULL_REQUEST_ACTIONS)[number];

/** A pull or merge request opened or updated: builds the head commit, fetched through the forge's PR ref. */
export interface PullRequestEvent extends EventBase {
  kind: 'pull_request';
  pullRequest: PullRequestInfo;
  /**
   * The forge named the head by an abbreviated id (Bitbucket Cloud: 12 characters). `after` is then
   * only that prefix: the receiver resolves it to the full commit through the source branch
   * (`builds/resolve-pull-request-head.ts`) before anything is stored, or builds nothing.
   */
  abbreviated?: true;
}

/** A schedule fired: builds the branch head as it was then. */
export interface ScheduleEvent extends EventBase {
  kind: 'schedule';
  /** The cron expression that fired. */
  cron: string;
}

/** Someone asked for a build (API, CLI, dashboard), with the pipeline's `workflow_dispatch` inputs. */
export interface ManualEvent extends EventBase {
  kind: 'manual';
  inputs: Record<string, string>;
}

/** A re-run of an earlier build. It keeps what trust depends on: the original's kind and pull request. */
export interface RerunEvent extends EventBase {
  kind: 'rerun';
  rerunOf: string;
  original: Exclude<EventKind, 'rerun'>;
  pullRequest: PullRequestInfo | null;
  inputs: Record<string, string>;
}

/** Every event that can start a build: one tagged union, switched on `kind`. */
export type CiEvent = PushEvent | PullRequestEvent | ScheduleEvent | ManualEvent | RerunEvent;

/** The pull request a build runs for, also through a re-run. */
export function pullRequestOf(e: CiEvent): PullRequestInfo | null {
  if (e.kind === 'pull_request') return e.pullRequest;
  if (e.kind === 'rerun') return e.pullRequest;
  return null;
}

/** The inputs a build runs with (manual builds and their re-runs). */
export function inputsOf(e: CiEvent): Record<string, string> {
  if (e.kind === 'manual' || e.kind === 'rerun') return e.inputs;
  return {};
}
