import type { EventKind, PullRequestAction } from '../core/event.ts';
import type { ForgeName, OutboundEventType } from '../model.ts';
import type { Glob } from './glob.ts';

/** A compiled pipeline: what matching and the runner use. Strings may still hold `${{ }}` references. */
export interface Pipeline {
  /** The id: `name:` when it is letters, digits, ".", "_" and "-", else the file name. */
  name: string;
  /** `name:` when it is not usable as an id (spaces, …): shown instead of the id. */
  title?: string | null;
  file: string;
  repository: string;
  cloneUrl: string | null;
  forge: ForgeName | null;
  /** `on.push` filters; null when pushes do not start this pipeline. */
  trigger: Trigger | null;
  /** `on.pull_request`; null when pull requests do not start it (absent in snapshots from before). */
  pullRequest?: PullRequestTrigger | null;
  /** `on.schedule`. */
  schedules?: ScheduleDef[];
  /** `on.workflow_dispatch` inputs (manual builds are always allowed; inputs need this). */
  inputs?: InputDef[];
  /** `pull-requests.forks`, or null for the server's default (PUSHCI_FORK_PULL_REQUESTS). */
  forks?: ForkPolicy | null;
  /** `secrets:` limits by name: which events and branches get the secret. */
  secretScopes?: Record<string, SecretScope>;
  env: Record<string, string>;
  jobs: JobDef[];
  notify: NotifyDef[];
  /** Null: no group, every push builds in parallel. */
  concurrency: Concurrency | null;
  /** Global cap on running jobs of this pipeline, or null. */
  maxJobs: number | null;
  /** Commit status context (e.g. `pushci/web`), or null for no commit statuses. */
  commitStatus: string | null;
}

export interface Concurrency {
  /** Group name; null means "pipeline and ref" (filled in per build). */
  group: string | null;
  /** true, false, or a `${{ }}` condition of the build's github and inputs, evaluated when it is created. */
  cancelInProgress: boolean | string;
}

export interface Trigger {
  branches: Glob[] | null;
  branchesIgnore: Glob[] | null;
  tags: Glob[] | null;
  tagsIgnore: Glob[] | null;
  paths: Glob[] | null;
  pathsIgnore: Glob[] | null;
}

export interface PullRequestTrigger {
  /** Target branch filters. */
  branches: Glob[] | null;
  branchesIgnore: Glob[] | null;
  types: PullRequestAction[];
  paths: Glob[] | null;
  pathsIgnore: Glob[] | null;
}

export type ForkPolicy = 'run' | 'approve' | 'never';

export interface ScheduleDef {
  cron: string;
  /** Null: the repository's default branch. */
  branch: string | null;
  always: boolean;
}

export interface InputDef {
  name: string;
  type: 'string' | 'boolean' | 'choice' | 'number';
  description: string | null;
  required: boolean;
  /** As a string (booleans `true`/`false`), or null. */
  default: string | null;
  options: string[] | null;
}

export interface SecretScope {
  events: EventKind[] | null;
  branches: Glob[] | null;
}

export interface JobDef {
  name: string;
  /** The name to show: `name:` of the job, rendered for its matrix combination (absent: the id). */
  title?: string | null;
  /** The job's key in the file, for a combination of a matrix (whose `name` is the key plus values). */
  group?: string;
  /** This combination of `strategy.matrix`. */
  matrix?: MatrixCombination;
  needs: string[];
  /** When the lifecycle queues the job: all needs passed, one failed, or once they all finished. */
  if: 'success' | 'failure' | 'always';
  /** The rest of the job's if: expression, evaluated by the worker before the checkout; null: none. */
  condition?: string | null;
  env: Record<string, string>;
  /** `runs-on` labels as written (aliases are applied by the worker); absent or empty: any worker. */
  runsOn?: string[];
  /** `outputs:`, templates the worker evaluates when the job ends. */
  outputs?: Record<string, string>;
  timeoutMinutes: number | null;
  continueOnError: boolean;
  workingDirectory: string | null;
  /** Network of its sandboxed steps (`network:` of the job, else of the pipeline). */
  network: 'default' | 'none' | 'host';
  /** Caches restored before the steps and saved after they succeeded (absent in older records). */
  caches: CacheDef[];
  /** Artifacts uploaded after the steps succeeded (absent in older records). */
  artifacts: ArtifactDef[];
  /** Names of the artifacts (of jobs it needs) unpacked into the checkout before the steps. */
  downloadArtifacts: string[];
  /** Processes started before the steps and stopped with the job (absent in older records). */
  services?: ServiceDef[];
  steps: StepDef[];
}

/** One `services:` entry: a process next to the job's steps, on a port of the job's loopback. */
export interface ServiceDef {
  /** Its key under `services:`; names `SERVICE_<ID>_PORT` and `job.services.<id>`. */
  id: string;
  /** The bash script that starts it (it runs until the job ends). */
  run: string;
  /** When it counts as started: a command retried until it succeeds, its port listening, or at once. */
  ready: { command: string } | 'port' | 'none';
  readyTimeoutSeconds: number;
  /** A port of its own choosing; null: the worker picks a free one. */
  port: number | null;
  /** `env:` of the service; values may hold `${{ }}`, rendered like the job's env. */
  env: Record<string, string>;
}

export interface CacheDef {
  /** May hold `${{ env.* }}`, `${{ secrets.* }}` and `${{ hashFiles(...) }}`, resolved by the worker. */
  key: string;
  /** Relative to the checkout, or `~/…` for the job's home. */
  paths: string[];
  restoreKeys: string[];
}

export interface ArtifactDef {
  name: string;
  /** Glob patterns relative to the checkout. */
  paths: string[];
}

export interface StepDef {
  /** `id:` of the step, for `steps.<id>`. */
  id?: string | null;
  /** The name to show: `name:`, or the script's first line. */
  name: string;
  /** `name:` holds `${{ }}` the worker renders (a name taken from the script is shown as written). */
  nameTemplate?: boolean;
  /** The script as written ('' for an action). */
  run: string;
  /** The action this step runs instead of a script (`uses:` as written). */
  uses?: string;
  /** Its `with:` inputs, templates the worker evaluates. */
  with?: Record<string, string>;
  /** What runs: `run` with each `${{ }}` replaced by `${PUSHCI_EXPR_n}` (absent: `run` has none). */
  script?: string;
  /** The values of those variables, evaluated by the worker. */
  expressions?: Array<{ variable: string; source: string }>;
  /** The step's if: expression; null: success(). */
  if?: string | null;
  env: Record<string, string>;
  /** Minutes, or a `${{ }}` expression the worker evaluates. */
  timeoutMinutes: number | string | null;
  /** A boolean, or a `${{ }}` expression the worker evaluates. */
  continueOnError: boolean | string;
  workingDirectory: string | null;
  shell: string | null;
}

export interface NotifyDef {
  url: string;
  secrets: string[];
  events: OutboundEventType[];
  branches: Glob[] | null;
}

export interface MatrixCombination {
  /** The `matrix` context: one value per key. */
  values: { [key: string]: unknown };
  /** Position among the combinations (`strategy.job-index`) and their count (`strategy.job-total`). */
  index: number;
  total: number;
  /** A failed combination cancels the others (default true). */
  failFast: boolean;
  /** At most this many combinations run at once; null: no limit. */
  maxParallel: number | null;
}
