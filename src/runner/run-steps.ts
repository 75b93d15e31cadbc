import type { StepDef } from '../pipelines/pipeline.ts';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { evaluateCondition } from '../pipelines/expr/template.ts';
import type { Value } from '../pipelines/expr/values.ts';
import { fromStepDef, type AnyStep } from './any-step.ts';
import { runAction } from './run-action.ts';
import { runScript } from './run-script.ts';
import { describeShell } from './run-step.ts';
import { stepContext, type Frame } from './step-context.ts';
import { stepCwd } from './step-cwd.ts';
import { stepPlan, type Plan } from './step-plan.ts';
import type { Failure, JobEnd, StepOutcome, StepsJob } from './steps-job.ts';

/** Runs the job's steps in order (actions included); returns the first failure, or how the job ended. */
export async function runJobSteps(
  j: StepsJob,
  steps: StepDef[],
): Promise<{ failed: Failure | null } | JobEnd> {
  const frame: Frame = {
    steps: j.contexts.steps as { [id: string]: Value },
    inputs: null,
    action: null,
    env: {},
    processEnv: {},
    depth: 0,
    trail: '',
  };
  const list = steps.map(fromStepDef);
  // As on GitHub, node actions' `pre` scripts run when the job starts, before the first step.
  j.preState ??= new Map();
  let preFailed: Failure | null = null;
  for (const [i, step] of list.entries()) {
    if (step.uses === null) continue;
    if (j.stop.aborted) return { end: j.stopped(`before the pre step of "${step.name}"`) };
    const ctx = stepContext(j, frame, { success: true, failure: false, cancelled: false });
    let plan: Plan;
    try {
      plan = stepPlan(step, ctx, { ...j.jobEnv, ...j.fromSteps.env }, j.base);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      continue; // the step itself reports it
    }
    const pre = await runAction(j, step, plan, ctx, frame, step.id ?? `__run_${i + 1}`, false, 'pre');
    if (pre === null) continue;
    if ('end' in pre) return pre;
    if (pre.problem) preFailed ??= { exitCode: pre.exitCode, reason: pre.problem };
  }
  const r = await runSteps(j, list, frame, preFailed !== null);
  if ('end' in r) return r;
  // Post steps run whatever happened before, newest first (GitHub's order).
  (j.contexts.job as { status: string }).status = preFailed || r.failed ? 'failure' : 'success';
  let failed = preFailed ?? r.failed;
  for (const post of j.posts.reverse()) {
    const ended = await post();
    if (ended && 'end' in ended) return ended;
    if (ended) failed ??= ended;
  }
  return { failed };
}

export async function runSteps(
  j: StepsJob,
  list: AnyStep[],
  frame: Frame,
  parentFailed: boolean,
): Promise<{ failed: Failure | null } | JobEnd> {
  let failed: Failure | null = null;
  for (const [i, step] of list.entries()) {
    // A cancel or the job's timeout that came between steps (or during the checkout, which may not
    // notice it) ends the job here: without this, success() is false once stopped, every step is
    // skipped and the job would end as a success it never earned.
    if (j.stop.aborted) return { end: j.stopped(`before step "${frame.trail}${step.name}"`) };
    const anyFailed: boolean = failed !== null || parentFailed;
    const status = { success: !anyFailed, failure: anyFailed, cancelled: j.stop.aborted };
    if (frame.depth === 0) (j.contexts.job as { status: string }).status = anyFailed ? 'failure' : 'success';
    const ctx = stepContext(j, frame, status);
    let stepOutputs: Record<string, string> = {};
    const result = (outcome: string, conclusion = outcome) => {
      if (step.id) frame.steps[step.id] = { outputs: stepOutputs, outcome, conclusion };
    };
    const fail = (reason: string, exitCode: number | null = null) => {
      j.log.system(`pushci: ${reason}`);
      result('failure');
      failed ??= { exitCode, reason };
    };
    let plan: Plan;
    try {
      if (!evaluateCondition(step.if ?? 'success()', ctx)) {
        j.log.system(
          `pushci: step "${frame.trail}${step.name}" skipped: ${step.if ? `its if: is false (${step.if.trim()})` : 'an earlier step failed'}`,
        );
        result('skipped');
        continue;
      }
      plan = stepPlan(step, ctx, { ...j.jobEnv, ...j.fromSteps.env, ...frame.env }, j.base);
      plan.name = frame.trail + plan.name;
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      fail(`step "${frame.trail}${step.name}": expression error: ${err.message}`);
      continue;
    }
    const seq = ++j.seq;
    const actionId = step.id ?? `__run_${frame.depth === 0 ? i + 1 : seq}`;
    let outcome: StepOutcome | JobEnd;
    if (step.uses !== null) {
      outcome = await runAction(j, step, plan, ctx, frame, actionId, anyFailed);
    } else {
      const cwd = await stepCwd(j, frame, step, plan, ctx);
      if ('problem' in cwd) {
        fail(cwd.problem);
        continue;
      }
      j.log.system(`▶ ${plan.name}  (${describeShell(step.shell)})`);
      outcome = await runScript(j, {
        name: plan.name,
        argv: null,
        script: step.script ?? '',
        shell: step.shell,
        cwd: cwd.dir,
        env: { ...plan.env, ...frame.processEnv },
        timeoutMinutes: plan.timeoutMinutes,
        actionId,
        seq,
      });
    }
    if ('end' in outcome) return outcome;
    stepOutputs = outcome.outputs;
    if (outcome.problem === null) {
      result('success');
      continue;
    }
    if (outcome.logProblem) j.log.system(`pushci: ${outcome.problem}`);
    if (plan.continueOnError) {
      j.log.system('pushci: continue-on-error is set; going on');
      result('failure', 'success');
      continue;
    }
    result('failure');
    failed ??= { exitCode: outcome.exitCode, reason: outcome.problem };
  }
  return { failed };
}
