import type { ActionStep } from '../pipelines/action-def.ts';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { renderTemplate } from '../pipelines/expr/template.ts';
import { fromActionStep } from './any-step.ts';
import type { LoadedAction } from './load-action.ts';
import { stepContext, type Frame, type RunSteps, type StepCall } from './step-context.ts';
import type { JobEnd, StepOutcome, StepsJob } from './steps-job.ts';

/** A composite action ready to run. */
export interface CompositeAction {
  loaded: LoadedAction;
  steps: ActionStep[];
  inputs: Record<string, string>;
  /** INPUT_* and GITHUB_ACTION_PATH: for the processes of its steps only. */
  processEnv: Record<string, string>;
}

/** Runs a composite action's steps in a frame of their own, then works out its outputs. */
export async function runCompositeAction(
  j: StepsJob,
  call: StepCall,
  a: CompositeAction,
  runSteps: RunSteps,
): Promise<StepOutcome | JobEnd> {
  const { plan, frame } = call;
  const inner: Frame = {
    steps: {},
    inputs: a.inputs,
    action: a.loaded,
    env: { ...frame.env, ...plan.own },
    processEnv: a.processEnv,
    depth: frame.depth + 1,
    trail: `${plan.name} / `,
  };
  const started = Date.now();
  const before = j.ending;
  const r = await runSteps(j, a.steps.map(fromActionStep), inner, call.anyFailed);
  if ('end' in r) return r;
  const outputs = compositeOutputs(j, inner, r.failed === null);
  // The action's own end, after its steps' ends: the build page closes its section with it.
  const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const how = !before && j.ending ? 'canceled' : r.failed ? 'failed' : 'succeeded';
  j.log.system(`pushci: step "${plan.name}" ${how} in ${took}`);
  if (r.failed) return { problem: r.failed.reason, logProblem: false, exitCode: r.failed.exitCode, outputs };
  return { problem: null, logProblem: false, exitCode: 0, outputs };
}

/** The action's `outputs:` `value:` templates, against its own steps; one that fails is logged and left out. */
function compositeOutputs(j: StepsJob, inner: Frame, succeeded: boolean): Record<string, string> {
  const loaded = inner.action!;
  const ctx = stepContext(j, inner, { success: succeeded, failure: !succeeded, cancelled: false });
  const outputs: Record<string, string> = {};
  for (const [k, t] of Object.entries(loaded.def.outputs)) {
    if (t === null) continue;
    try {
      outputs[k] = renderTemplate(t, ctx);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      j.log.system(`pushci: output "${k}" of ${loaded.label} cannot be evaluated: ${err.message}`);
    }
  }
  return outputs;
}
