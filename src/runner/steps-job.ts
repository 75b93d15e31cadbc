import type { Value } from '../pipelines/expr/values.ts';
import type { ActionRef } from '../pipelines/action-ref.ts';
import type { JobResult } from '../builds/lifecycle.ts';
import type { JobDirs, JobRuntime } from './backend.ts';
import type { JobLog } from './job-log.ts';
import type { JobTimings } from './job-timings.ts';
import type { LoadedAction } from './load-action.ts';
import type { StepFileState } from './step-files.ts';
import type { FileWork } from './files/file-work.ts';
import type { LineCut } from './mask.ts';

/** Composite actions may call actions this deep (GitHub's limit too). */
export const MAX_ACTION_DEPTH = 10;

/** Everything the steps of one job share; built once by runJob. */
export interface StepsJob {
  rt: JobRuntime;
  dirs: JobDirs;
  /** realpath of the checkout. */
  realSrc: string;
  log: JobLog;
  /** The job's contexts (github, secrets, vars, needs, matrix, runner, job, …); `steps` is the job's own. */
  contexts: { [name: string]: Value };
  /** The `env` context the server gives. */
  serverEnv: { [name: string]: Value };
  /** workflow + job env, rendered. */
  jobEnv: Record<string, string>;
  /** What every step starts from (baseEnv). */
  base: Record<string, string>;
  /**
   * The actions/cache and artifact protocols' variables (the gateway's URL, ACTIONS_RUNTIME_TOKEN), for
   * actions' processes (as on GitHub); empty when the steps cannot reach the gateway.
   */
  gatewayEnv: Record<string, string>;
  /** Makes the gateway listen (once), before the first step that has its URL starts. */
  openGateway(): Promise<void>;
  /** The job's services' variables, for every step. */
  servicesEnv: Record<string, string>;
  fromSteps: StepFileState;
  addMask(value: string): void;
  /** Where a line too long for one log line is cut: never inside a secret. */
  cut: LineCut;
  /** The job's own working directory (job `working-directory`), relative to the checkout. */
  jobWorkingDirectory: string | null;
  killGraceMs: number;
  /** The job's file work (command files, scripts); default node:fs/promises. */
  files?: FileWork;
  /** Aborted on cancel or job timeout. */
  stop: AbortSignal;
  /** The cancel signal alone (to tell cancel from timeout). */
  cancel: AbortSignal | undefined;
  deadline: number;
  /** "job timed out after N min" */
  timeoutText: string;
  /** How the job ends once `stop` is aborted; `where` goes into the log. */
  stopped(where: string): JobResult;
  /** See JobScope.cleanup: the signal and deadline of the steps that still run once the job was stopped. */
  cleanup(): { signal: AbortSignal; deadline: number } | null;
  /**
   * Set once a cancel or the job's timeout stopped it and its cleanup began: how the job ends, whatever
   * the steps that still run then (`stop` and `deadline` are then the cleanup's).
   */
  ending: JobResult | null;
  /** Loads the action a `uses:` names (a step failure message instead when it cannot). */
  loadAction(ref: ActionRef, uses: string): Promise<LoadedAction | { problem: string }>;
  /** The Node that runs node actions: its path as the steps see it, or why there is none. */
  node: string | { problem: string };
  /** $GITHUB_STATE of the `pre` scripts run at the job's start, by step (the step's main sees it). */
  preState?: Map<object, Record<string, string>>;
  /** Post steps of node actions, run at the job's end in reverse order. */
  posts: Array<() => Promise<JobEnd | Failure | null>>;
  /** Numbers each script run (scripts and command files). */
  seq: number;
  /** PUSHCI_JOB_TIMINGS: where the job's milliseconds go. */
  timings?: JobTimings;
}

/** The job ends right away (canceled, timed out). */
export interface JobEnd {
  end: JobResult;
}

/** Why a job's steps failed: the first failure. */
export interface Failure {
  exitCode: number | null;
  reason: string;
}

/** How one step (or one process of it) went. */
export interface StepOutcome {
  problem: string | null;
  /** The problem still needs its own log line (timeouts, limits, action problems). */
  logProblem: boolean;
  exitCode: number | null;
  outputs: Record<string, string>;
}

/** A step that could not start: `problem` names the step, and still needs its log line. */
export const stepProblem = (stepName: string, problem: string): StepOutcome => ({
  problem: `step "${stepName}": ${problem}`,
  logProblem: true,
  exitCode: null,
  outputs: {},
});
