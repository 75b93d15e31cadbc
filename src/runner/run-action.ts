import { DOCKER_ACTION_PROBLEM } from '../pipelines/action-file.ts';
import { parseActionRef } from '../pipelines/action-ref.ts';
import type { EvalContext } from '../pipelines/expr/evaluate.ts';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { evaluateCondition, renderTemplate } from '../pipelines/expr/template.ts';
import { actionInputVariable, inputValues } from './action-inputs.ts';
import { fromActionStep, type AnyStep } from './any-step.ts';
import { builtinCheckout } from './builtin-checkout.ts';
import { builtinAction } from './builtin-actions.ts';
import { runScript, type ScriptRun } from './run-script.ts';
import { runSteps } from './run-steps.ts';
import { stepContext, type Frame } from './step-context.ts';
import type { Plan } from './step-plan.ts';
import { MAX_ACTION_DEPTH, type JobEnd, type StepOutcome, type StepsJob } from './steps-job.ts';

/** A `uses:` step: loads the action, works out its inputs, and runs it by its kind. */
export async function runAction(
  j: StepsJob,
  step: AnyStep,
  plan: Plan,
  ctx: EvalContext,
  frame: Frame,
  actionId: string,
  anyFailed: boolean,
  phase: 'pre',
): Promise<StepOutcome | JobEnd | null>;
export async function runAction(
  j: StepsJob,
  step: AnyStep,
  plan: Plan,
  ctx: EvalContext,
  frame: Frame,
  actionId: string,
  anyFailed: boolean,
  phase?: 'main',
): Promise<StepOutcome | JobEnd>;
/**
 * A `uses:` step: loads the action, works out its inputs, and runs it by its kind. In the `pre`
 * phase (the job's start) it runs only a node action's `pre` script, and says nothing otherwise.
 */
export async function runAction(
  j: StepsJob,
  step: AnyStep,
  plan: Plan,
  ctx: EvalContext,
  frame: Frame,
  actionId: string,
  anyFailed: boolean,
  phase: 'pre' | 'main' = 'main',
): Promise<StepOutcome | JobEnd | null> {
  const quiet = phase === 'pre';
  const problem = (text: string): StepOutcome => ({
    problem: `step "${plan.name}": ${text}`,
    logProblem: true,
    exitCode: null,
    outputs: {},
  });
  const uses = step.uses!;
  if (!quiet) j.log.system(`▶ ${plan.name}  (uses: ${uses})`);
  if (frame.depth >= MAX_ACTION_DEPTH)
    return problem(`actions call actions more than ${MAX_ACTION_DEPTH} deep; "${uses}" is not run`);
  const ref = parseActionRef(uses);
  if ('problem' in ref) return problem(ref.problem);
  if (ref.kind === 'docker') return problem(DOCKER_ACTION_PROBLEM);
  if (ref.kind === 'remote' && builtinAction(ref) === 'checkout')
    return quiet ? null : builtinCheckout(j, step, plan, ctx, frame, actionId);
  const loaded = await j.loadAction(ref, uses);
  if ('problem' in loaded) return quiet ? null : problem(loaded.problem);
  const def = loaded.def;
  const hasPre = def.runs.using !== 'composite' && def.runs.using !== 'docker' && def.runs.pre !== null;
  // Only the pre script runs now; everything else (and every problem) waits for the step's turn.
  if (quiet && !hasPre) return null;
  let inputs: Record<string, string>;
  try {
    const given: Record<string, string> = {};
    for (const [k, v] of Object.entries(step.with)) given[k] = renderTemplate(v, ctx);
    const r = inputValues(def, given, (d) => renderTemplate(d, ctx));
    for (const name of quiet ? [] : r.unexpected)
      j.log.system(`pushci: warning: ${loaded.label} has no input "${name}" (with: ${name})`);
    if (r.missing.length > 0 && quiet) return null;
    if (r.missing.length > 0)
      return problem(
        `${loaded.label} needs the input(s) ${r.missing.map((m) => `"${m}"`).join(', ')} (with:)`,
      );
    inputs = r.values;
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    return quiet ? null : problem(`expression error in with: ${err.message}`);
  }
  const processEnv: Record<string, string> = { GITHUB_ACTION_PATH: loaded.dir };
  if (ref.kind === 'remote') {
    processEnv.GITHUB_ACTION_REPOSITORY = `${ref.owner}/${ref.repo}`;
    processEnv.GITHUB_ACTION_REF = ref.ref;
  }
  for (const [k, v] of Object.entries(inputs)) processEnv[actionInputVariable(k)] = v;
  const runs = def.runs;
  if (runs.using === 'docker') return problem(DOCKER_ACTION_PROBLEM);
  if (runs.using === 'composite') {
    const inner: Frame = {
      steps: {},
      inputs,
      action: loaded,
      env: { ...frame.env, ...plan.own },
      processEnv,
      depth: frame.depth + 1,
      trail: `${plan.name} / `,
    };
    const r = await runSteps(j, runs.steps.map(fromActionStep), inner, anyFailed);
    if ('end' in r) return r;
    const outCtx = stepContext(j, inner, { success: !r.failed, failure: !!r.failed, cancelled: false });
    const outputs: Record<string, string> = {};
    for (const [k, t] of Object.entries(def.outputs)) {
      if (t === null) continue;
      try {
        outputs[k] = renderTemplate(t, outCtx);
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        j.log.system(`pushci: output "${k}" of ${loaded.label} cannot be evaluated: ${err.message}`);
      }
    }
    if (r.failed)
      return { problem: r.failed.reason, logProblem: false, exitCode: r.failed.exitCode, outputs };
    return { problem: null, logProblem: false, exitCode: 0, outputs };
  }
  // A node action: main now, pre just before it, post at the job's end.
  if (typeof j.node !== 'string') return quiet ? null : problem(j.node.problem);
  const node = j.node;
  const env = { ...j.base, ...j.jobEnv, ...j.fromSteps.env, ...frame.env, ...plan.own, ...processEnv };
  // GitHub runs node actions in the workspace.
  const cwd = { dir: j.realSrc };
  const state: Record<string, string> = { ...j.preState?.get(step) };
  const stateEnv = () =>
    Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v] as const));
  const script = (file: string, name: string): ScriptRun => ({
    name,
    argv: [node, `${loaded.dir}/${file}`],
    script: '',
    shell: null,
    cwd: cwd.dir,
    env,
    timeoutMinutes: plan.timeoutMinutes,
    actionId,
    seq: ++j.seq,
    extraEnv: stateEnv(),
    onState: (s) => Object.assign(state, s),
  });
  const cond = (text: string | null, fallback: string) => {
    try {
      return evaluateCondition(text ?? fallback, ctx);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      j.log.system(`pushci: ${loaded.label}: ${err.message}`);
      return false;
    }
  };
  if (quiet) {
    if (!runs.pre || !cond(runs.preIf, 'always()')) return null;
    j.log.system(`▶ Pre ${plan.name}  (${loaded.label}, ${runs.using}, with ${node})`);
    const pre = await runScript(j, script(runs.pre, `Pre ${plan.name}`));
    if (!('end' in pre)) j.preState?.set(step, { ...state });
    return pre;
  }
  j.log.system(`pushci: ${loaded.label} (${runs.using}) runs with ${node}`);
  // A pre script of an action inside a composite action runs right before its main.
  if (runs.pre && !j.preState?.has(step) && cond(runs.preIf, 'always()')) {
    const pre = await runScript(j, script(runs.pre, `Pre ${plan.name}`));
    if ('end' in pre || pre.problem) return pre;
  }
  const main = await runScript(j, script(runs.main, plan.name));
  if ('end' in main) return main;
  if (runs.post) {
    const post = runs.post;
    const postIf = runs.postIf;
    j.posts.push(async () => {
      const jobStatus = (j.contexts.job as { status: string }).status;
      const failedNow = jobStatus !== 'success';
      const postCtx: EvalContext = {
        ...ctx,
        status: { success: !failedNow, failure: failedNow, cancelled: j.stop.aborted },
        contexts: { ...ctx.contexts, job: { status: jobStatus } },
      };
      let run: boolean;
      try {
        run = evaluateCondition(postIf ?? 'always()', postCtx);
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        j.log.system(`pushci: post of ${loaded.label}: ${err.message}`);
        run = false;
      }
      if (!run) {
        j.log.system(`pushci: post of "${plan.name}" skipped: its post-if is false`);
        return null;
      }
      j.log.system(`▶ Post ${plan.name}`);
      const r = await runScript(j, script(post, `Post ${plan.name}`));
      if ('end' in r) return r;
      return r.problem ? { exitCode: r.exitCode, reason: r.problem } : null;
    });
  }
  return main;
}
