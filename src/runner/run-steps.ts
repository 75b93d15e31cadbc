import type { StepDef } from '../pipelines/pipeline.ts';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { evaluateCondition } from '../pipelines/expr/template.ts';
import type { Value } from '../pipelines/expr/values.ts';
import { fromStepDef, type AnyStep } from './any-step.ts';
import { runAction, runActionPre } from './run-action.ts';
import { runScript, whyCleanupEnded } from './run-script.ts';
import { describeShell } from './run-step.ts';
import { stepContext, type Frame, type StepCall } from './step-context.ts';
import { stepCwd } from './step-cwd.ts';
import { stepPlan, type Plan } from './step-plan.ts';
import type { Failure, JobEnd, StepOutcome, StepsJob } from './steps-job.ts';
import type { JobResult } from '../builds/lifecycle.ts';

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
  const pre = await runPreScripts(j, list, frame);
  if ('end' in pre) return pre;
  const r = await runSteps(j, list, frame, pre.failed !== null);
  if ('end' in r) return r;
  // Post steps run whatever happened before, newest first (GitHub's order), after a cancel too.
  if (!j.ending)
    (j.contexts.job as { status: string }).status = pre.failed || r.failed ? 'failure' : 'success';
  let failed = pre.failed ?? r.failed;
  for (const post of j.posts.reverse()) {
    if (j.stop.aborted) {
      if (j.ending) return cutShort(j, 'its post steps did not run');
      const end = j.stopped('before the post steps');
      if (!beginCleanup(j, end)) return { end };
    }
    const ended = await post();
    if (ended && 'end' in ended) {
      if (j.ending) return cutShort(j, 'the post steps after it did not run');
      if (!beginCleanup(j, ended.end)) return ended;
      continue;
    }
    if (ended) failed ??= ended;
  }
  return j.ending ? { end: j.ending } : { failed };
}

/** Jobs whose cut-short cleanup was logged already (a composite action's steps and the job's both end). */
const cut = new WeakSet<StepsJob>();

/** The cleanup was stopped before its end: the log says why and what did not run (once), the job ends. */
function cutShort(j: StepsJob, what: string): JobEnd {
  if (!cut.has(j)) {
    cut.add(j);
    j.log.system(`pushci: ${whyCleanupEnded(j)}: ${what}`);
  }
  return { end: j.ending! };
}

/**
 * A cancel or the job's timeout stopped the job (`end`, how it ends whatever comes after). As on
 * GitHub, the steps whose if: asks to run then (always(), cancelled()) and the actions' post steps
 * still run, with the cleanup's own time (PUSHCI_CANCEL_CLEANUP_MS; a second cancel ends it). False
 * when there is no cleanup (a shutdown's or a forced cancel, or it had begun already): the job ends now.
 */
function beginCleanup(j: StepsJob, end: JobResult): boolean {
  if (j.ending) return false;
  const cleanup = j.cleanup();
  if (!cleanup) return false;
  j.ending = end;
  j.stop = cleanup.signal;
  j.deadline = cleanup.deadline;
  (j.contexts.job as { status: string }).status = 'cancelled';
  const seconds = Math.round((cleanup.deadline - Date.now()) / 1000);
  j.log.system(
    `pushci: ${end.status === 'canceled' ? 'canceled' : 'timed out'}: only steps whose if: calls always() or cancelled(), and actions' post steps, run now (for at most ${seconds} s; cancelling again ends them)`,
  );
  return true;
}

/** As on GitHub, node actions' `pre` scripts run when the job starts, before the first step. */
async function runPreScripts(
  j: StepsJob,
  list: AnyStep[],
  frame: Frame,
): Promise<{ failed: Failure | null } | JobEnd> {
  j.preState ??= new Map();
  let failed: Failure | null = null;
  for (const [i, step] of list.entries()) {
    if (step.uses === null) continue;
    if (j.stop.aborted) {
      const end = j.stopped(`before the pre step of "${step.name}"`);
      return beginCleanup(j, end) ? { failed } : { end };
    }
    const ctx = stepContext(j, frame, { success: true, failure: false, cancelled: false });
    let plan: Plan;
    try {
      plan = stepPlan(step, ctx, { ...j.jobEnv, ...j.fromSteps.env }, j.base);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      continue; // the step itself reports it
    }
    const actionId = step.id ?? `__run_${i + 1}`;
    const pre = await runActionPre(j, { step, plan, ctx, frame, actionId, anyFailed: false });
    if (pre === null) continue;
    if ('end' in pre) return beginCleanup(j, pre.end) ? { failed } : pre;
    if (pre.problem) failed ??= { exitCode: pre.exitCode, reason: pre.problem };
  }
  return { failed };
}

/** What became of one step: its `steps.<id>` record, and the failure it adds to the job's. */
interface StepEnd {
  outcome: string;
  conclusion: string;
  outputs: Record<string, string>;
  failed: Failure | null;
}

/** Runs a list of steps (the job's, or a composite action's in its frame) until the job ends. */
export async function runSteps(
  j: StepsJob,
  list: AnyStep[],
  frame: Frame,
  parentFailed: boolean,
): Promise<{ failed: Failure | null } | JobEnd> {
  let failed: Failure | null = null;
  for (const [i, step] of list.entries()) {
    // A cancel or the job's timeout that came between steps (or during the checkout, which may not
    // notice it) ends the job here, or begins its cleanup: without this, success() is false once
    // stopped, every step is skipped and the job would end as a success it never earned.
    if (j.stop.aborted) {
      // The cleanup's own time ran out, or it was forced.
      if (j.ending)
        return cutShort(
          j,
          `step "${frame.trail}${step.name}", the steps after it and the post steps did not run`,
        );
      const end = j.stopped(`before step "${frame.trail}${step.name}"`);
      if (!beginCleanup(j, end)) return { end };
    }
    const before = j.ending;
    const ended = await runOneStep(j, step, i, frame, failed !== null || parentFailed);
    if (!('end' in ended) && !before && j.ending) {
      // A composite action the cancel or the timeout stopped inside (its own steps began the cleanup).
      if (step.id)
        frame.steps[step.id] = { outputs: ended.outputs, outcome: 'cancelled', conclusion: 'cancelled' };
      continue;
    }
    if ('end' in ended) {
      if (j.ending) return cutShort(j, 'the steps after it and the post steps did not run');
      if (!beginCleanup(j, ended.end)) return ended;
      // The step the cancel or the timeout stopped.
      if (step.id) frame.steps[step.id] = { outputs: {}, outcome: 'cancelled', conclusion: 'cancelled' };
      continue;
    }
    const { outputs, outcome, conclusion } = ended;
    if (step.id) frame.steps[step.id] = { outputs, outcome, conclusion };
    failed ??= ended.failed;
  }
  return { failed };
}

/** One step: its if:, its expressions, then its action or script. */
async function runOneStep(
  j: StepsJob,
  step: AnyStep,
  index: number,
  frame: Frame,
  anyFailed: boolean,
): Promise<StepEnd | JobEnd> {
  const cancelled = j.ending !== null || j.stop.aborted;
  const status = { success: !anyFailed, failure: anyFailed, cancelled };
  if (frame.depth === 0 && !cancelled)
    (j.contexts.job as { status: string }).status = anyFailed ? 'failure' : 'success';
  const ctx = stepContext(j, frame, status);
  const fail = (reason: string): StepEnd => {
    j.log.system(`pushci: ${reason}`);
    return { outcome: 'failure', conclusion: 'failure', outputs: {}, failed: { exitCode: null, reason } };
  };
  let plan: Plan;
  try {
    if (!evaluateCondition(step.if ?? 'success()', ctx)) {
      const why = step.if
        ? `its if: is false (${step.if.trim()})`
        : j.ending
          ? `the job ${j.ending.status === 'canceled' ? 'was canceled' : 'timed out'}`
          : 'an earlier step failed';
      j.log.system(`pushci: step "${frame.trail}${step.name}" skipped: ${why}`);
      return { outcome: 'skipped', conclusion: 'skipped', outputs: {}, failed: null };
    }
    plan = stepPlan(step, ctx, { ...j.jobEnv, ...j.fromSteps.env, ...frame.env }, j.base);
    plan.name = frame.trail + plan.name;
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    return fail(`step "${frame.trail}${step.name}": expression error: ${err.message}`);
  }
  const seq = ++j.seq;
  const actionId = step.id ?? `__run_${frame.depth === 0 ? index + 1 : seq}`;
  const call: StepCall = { step, plan, ctx, frame, actionId, anyFailed };
  let outcome: StepOutcome | JobEnd;
  if (step.uses !== null) outcome = await runAction(j, call, runSteps);
  else {
    const cwd = await stepCwd(j, frame, step, plan, ctx);
    if ('problem' in cwd) return fail(cwd.problem);
    outcome = await runScriptStep(j, call, cwd.dir, seq);
  }
  if ('end' in outcome) return outcome;
  return stepEnd(j, plan, outcome);
}

/** A `run:` step: its script, in its shell, with the step's environment. */
function runScriptStep(j: StepsJob, call: StepCall, cwd: string, seq: number): Promise<StepOutcome | JobEnd> {
  const { step, plan, frame } = call;
  j.log.system(`▶ ${plan.name}  (${describeShell(step.shell)})`);
  return runScript(j, {
    name: plan.name,
    argv: null,
    script: step.script ?? '',
    shell: step.shell,
    cwd,
    env: { ...plan.env, ...frame.processEnv },
    timeoutMinutes: plan.timeoutMinutes,
    actionId: call.actionId,
    seq,
  });
}

/** A step that ran: success, a failure, or a failure that continue-on-error lets pass. */
function stepEnd(j: StepsJob, plan: Plan, o: StepOutcome): StepEnd {
  const outputs = o.outputs;
  if (o.problem === null) return { outcome: 'success', conclusion: 'success', outputs, failed: null };
  if (o.logProblem) j.log.system(`pushci: ${o.problem}`);
  if (plan.continueOnError) {
    j.log.system('pushci: continue-on-error is set; going on');
    return { outcome: 'failure', conclusion: 'success', outputs, failed: null };
  }
  return {
    outcome: 'failure',
    conclusion: 'failure',
    outputs,
    failed: { exitCode: o.exitCode, reason: o.problem },
  };
}
