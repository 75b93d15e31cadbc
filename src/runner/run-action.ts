import { DOCKER_ACTION_PROBLEM } from '../pipelines/action-file.ts';
import { parseActionRef, type ActionRef } from '../pipelines/action-ref.ts';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { renderTemplate } from '../pipelines/expr/template.ts';
import { actionInputVariable, inputValues } from './action-inputs.ts';
import { builtinAction } from './builtin-actions.ts';
import { builtinCheckout } from './builtin-checkout.ts';
import type { LoadedAction } from './load-action.ts';
import { runCompositeAction } from './run-composite-action.ts';
import { runNodeAction, runNodePre } from './run-node-action.ts';
import type { RunSteps, StepCall } from './step-context.ts';
import { MAX_ACTION_DEPTH, stepProblem, type JobEnd, type StepOutcome, type StepsJob } from './steps-job.ts';

/** A `uses:` step at its turn: loads the action, works out its inputs, and runs it by its kind. */
export async function runAction(
  j: StepsJob,
  call: StepCall,
  runSteps: RunSteps,
): Promise<StepOutcome | JobEnd> {
  const { plan } = call;
  const uses = call.step.uses!;
  j.log.system(`▶ ${plan.name}  (uses: ${uses})`);
  const ref = usableRef(call);
  if ('problem' in ref) return stepProblem(plan.name, ref.problem);
  if (isCheckout(ref)) return builtinCheckout(j, call);
  const loaded = await j.loadAction(ref, uses);
  if ('problem' in loaded) return stepProblem(plan.name, loaded.problem);
  const inputs = actionInputs(j, call, loaded, { warn: true });
  if ('problem' in inputs) return stepProblem(plan.name, inputs.problem);
  const processEnv = actionProcessEnv(ref, loaded, inputs.values);
  const runs = loaded.def.runs;
  if (runs.using === 'docker') return stepProblem(plan.name, DOCKER_ACTION_PROBLEM);
  if (runs.using === 'composite') {
    const composite = { loaded, steps: runs.steps, inputs: inputs.values, processEnv };
    return runCompositeAction(j, call, composite, runSteps);
  }
  if (typeof j.node !== 'string') return stepProblem(plan.name, j.node.problem);
  return runNodeAction(j, call, { loaded, runs, processEnv, node: j.node });
}

/**
 * At the job's start, before the first step: runs the `pre` script of the node action a `uses:` step
 * names. Null when there is none to run; every problem but a `uses:` that cannot run at all waits
 * for the step's turn.
 */
export async function runActionPre(j: StepsJob, call: StepCall): Promise<StepOutcome | JobEnd | null> {
  const ref = usableRef(call);
  if ('problem' in ref) return stepProblem(call.plan.name, ref.problem);
  if (isCheckout(ref)) return null;
  const loaded = await j.loadAction(ref, call.step.uses!);
  if ('problem' in loaded) return null;
  const runs = loaded.def.runs;
  if (runs.using === 'composite' || runs.using === 'docker' || runs.pre === null) return null;
  const inputs = actionInputs(j, call, loaded, { warn: false });
  if ('problem' in inputs || typeof j.node !== 'string') return null;
  const processEnv = actionProcessEnv(ref, loaded, inputs.values);
  return runNodePre(j, call, { loaded, runs, processEnv, node: j.node });
}

/** The action a `uses:` names, if it may run here: not too deep, spelt right, not a docker image. */
function usableRef(call: StepCall): ActionRef | { problem: string } {
  const uses = call.step.uses!;
  if (call.frame.depth >= MAX_ACTION_DEPTH)
    return { problem: `actions call actions more than ${MAX_ACTION_DEPTH} deep; "${uses}" is not run` };
  const ref = parseActionRef(uses);
  if (!('problem' in ref) && ref.kind === 'docker') return { problem: DOCKER_ACTION_PROBLEM };
  return ref;
}

const isCheckout = (ref: ActionRef) => ref.kind === 'remote' && builtinAction(ref) === 'checkout';

/** The step's `with:`, rendered, checked against the action's inputs, defaults filled in. */
function actionInputs(
  j: StepsJob,
  call: StepCall,
  loaded: LoadedAction,
  { warn }: { warn: boolean },
): { values: Record<string, string> } | { problem: string } {
  try {
    const given: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.step.with)) given[k] = renderTemplate(v, call.ctx);
    const r = inputValues(loaded.def, given, (d) => renderTemplate(d, call.ctx));
    for (const name of warn ? r.unexpected : [])
      j.log.system(`pushci: warning: ${loaded.label} has no input "${name}" (with: ${name})`);
    if (r.missing.length > 0) {
      const names = r.missing.map((m) => `"${m}"`).join(', ');
      return { problem: `${loaded.label} needs the input(s) ${names} (with:)` };
    }
    return { values: r.values };
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    return { problem: `expression error in with: ${err.message}` };
  }
}

/** What only the action's own processes see: where it is, which it is, and its INPUT_* variables. */
function actionProcessEnv(
  ref: ActionRef,
  loaded: LoadedAction,
  inputs: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = { GITHUB_ACTION_PATH: loaded.dir };
  if (ref.kind === 'remote') {
    env.GITHUB_ACTION_REPOSITORY = `${ref.owner}/${ref.repo}`;
    env.GITHUB_ACTION_REF = ref.ref;
  }
  for (const [k, v] of Object.entries(inputs)) env[actionInputVariable(k)] = v;
  return env;
}
