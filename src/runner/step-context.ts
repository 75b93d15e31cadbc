import type { EvalContext } from '../pipelines/expr/evaluate.ts';
import type { Value } from '../pipelines/expr/values.ts';
import { hashFiles } from './hash-files.ts';
import type { LoadedAction } from './load-action.ts';
import type { AnyStep } from './any-step.ts';
import type { Plan } from './step-plan.ts';
import type { Failure, JobEnd, StepsJob } from './steps-job.ts';

/** Where a list of steps runs: the job itself, or inside a composite action. */
export interface Frame {
  steps: { [id: string]: Value };
  /** `inputs` inside an action. */
  inputs: { [name: string]: Value } | null;
  action: LoadedAction | null;
  /** The calling step's env (rendered), for the steps of a composite action. */
  env: Record<string, string>;
  /** INPUT_* and GITHUB_ACTION_PATH: in the process environment only. */
  processEnv: Record<string, string>;
  depth: number;
  /** Names of the calling steps, for log lines. */
  trail: string;
}

/** One step at its turn, as runSteps has worked it out for whatever runs it. */
export interface StepCall {
  step: AnyStep;
  plan: Plan;
  ctx: EvalContext;
  frame: Frame;
  /** GITHUB_ACTION of the step. */
  actionId: string;
  /** A step before it (or before the composite action it is in) failed. */
  anyFailed: boolean;
}

/** The step loop, handed to what runs a composite action's steps (so the two files need not import each other). */
export type RunSteps = (
  j: StepsJob,
  list: AnyStep[],
  frame: Frame,
  parentFailed: boolean,
) => Promise<{ failed: Failure | null } | JobEnd>;

/** The expression context of a step in `frame`: the job's contexts with the frame's steps, inputs and env. */
export function stepContext(
  j: StepsJob,
  frame: Frame,
  status: { success: boolean; failure: boolean; cancelled: boolean },
): EvalContext {
  const github = j.contexts.github as { [k: string]: Value };
  return {
    contexts: {
      ...j.contexts,
      ...(frame.inputs ? { inputs: frame.inputs } : {}),
      ...(frame.action ? { github: { ...github, action_path: frame.action.dir } } : {}),
      steps: frame.steps,
      env: { ...j.serverEnv, ...j.jobEnv, ...j.fromSteps.env, ...frame.env },
    },
    status,
    hashFiles: (patterns) => hashFiles(j.realSrc, patterns),
  };
}
