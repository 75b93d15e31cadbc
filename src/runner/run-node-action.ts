import type { ActionRuns } from '../pipelines/action-def.ts';
import type { EvalContext } from '../pipelines/expr/evaluate.ts';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { evaluateCondition } from '../pipelines/expr/template.ts';
import type { LoadedAction } from './load-action.ts';
import { runScript, type ScriptRun } from './run-script.ts';
import type { StepCall } from './step-context.ts';
import type { Failure, JobEnd, StepOutcome, StepsJob } from './steps-job.ts';

/** A node action ready to run: the action, its process environment and the Node that runs it. */
export interface NodeAction {
  loaded: LoadedAction;
  runs: Extract<ActionRuns, { main: string }>;
  /** INPUT_*, GITHUB_ACTION_PATH, …: for the action's own processes only. */
  processEnv: Record<string, string>;
  /** The Node binary as the steps see it. */
  node: string;
}

/** At the job's start: the action's `pre` script, if its pre-if allows; its GITHUB_STATE waits for main. */
export async function runNodePre(
  j: StepsJob,
  call: StepCall,
  a: NodeAction,
): Promise<StepOutcome | JobEnd | null> {
  const { runs } = a;
  const scripts = nodeScripts(j, call, a);
  if (!runs.pre || !actionCondition(j, runs.preIf, call.ctx, a.loaded.label)) return null;
  j.log.system(`▶ Pre ${call.plan.name}  (${a.loaded.label}, ${runs.using}, with ${a.node})`);
  const pre = await runScript(j, scripts.script(runs.pre, `Pre ${call.plan.name}`));
  if (!('end' in pre)) j.preState?.set(call.step, { ...scripts.state });
  return pre;
}

/** At the step's turn: pre (if it has not run yet), main, and the post queued for the job's end. */
export async function runNodeAction(
  j: StepsJob,
  call: StepCall,
  a: NodeAction,
): Promise<StepOutcome | JobEnd> {
  const { runs } = a;
  const scripts = nodeScripts(j, call, a);
  j.log.system(`pushci: ${a.loaded.label} (${runs.using}) runs with ${a.node}`);
  // A pre script of an action inside a composite action runs right before its main.
  if (runs.pre && !j.preState?.has(call.step) && actionCondition(j, runs.preIf, call.ctx, a.loaded.label)) {
    j.log.system(`▶ Pre ${call.plan.name}  (${a.loaded.label}, ${runs.using}, with ${a.node})`);
    const pre = await runScript(j, scripts.script(runs.pre, `Pre ${call.plan.name}`));
    if ('end' in pre || pre.problem) return pre;
  }
  // Queued before main runs: once main has started, its post runs at the job's end, also after a
  // cancel that stopped main (as on GitHub: a login action still logs out).
  const post = runs.post;
  if (post) j.posts.push(() => runNodePost(j, call, a, () => scripts.script(post, `Post ${call.plan.name}`)));
  return runScript(j, scripts.script(runs.main, call.plan.name));
}

/** At the job's end: the `post` script, if its post-if allows (judged by how the job has gone). */
async function runNodePost(
  j: StepsJob,
  call: StepCall,
  a: NodeAction,
  post: () => ScriptRun,
): Promise<JobEnd | Failure | null> {
  const { ctx, plan } = call;
  const jobStatus = (j.contexts.job as { status: string }).status;
  const failedNow = jobStatus === 'failure';
  const postCtx: EvalContext = {
    ...ctx,
    status: { success: !failedNow, failure: failedNow, cancelled: j.ending !== null || j.stop.aborted },
    contexts: { ...ctx.contexts, job: { status: jobStatus } },
  };
  if (!actionCondition(j, a.runs.postIf, postCtx, `post of ${a.loaded.label}`)) {
    j.log.system(`pushci: post of "${plan.name}" skipped: its post-if is false`);
    return null;
  }
  j.log.system(`▶ Post ${plan.name}`);
  const r = await runScript(j, post());
  if ('end' in r) return r;
  return r.problem ? { exitCode: r.exitCode, reason: r.problem } : null;
}

/** A pre-if or post-if (`always()` when absent); one that cannot be evaluated is logged and is false. */
function actionCondition(j: StepsJob, text: string | null, ctx: EvalContext, where: string): boolean {
  try {
    return evaluateCondition(text ?? 'always()', ctx);
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    j.log.system(`pushci: ${where}: ${err.message}`);
    return false;
  }
}

/**
 * The processes of one node action: each a script of the action run by Node in the workspace (as on
 * GitHub), with the step's environment, sharing the GITHUB_STATE the earlier ones saved (STATE_*).
 */
function nodeScripts(j: StepsJob, call: StepCall, a: NodeAction) {
  const { step, plan, frame } = call;
  const env = { ...j.base, ...j.jobEnv, ...j.fromSteps.env, ...frame.env, ...plan.own, ...a.processEnv };
  const state: Record<string, string> = { ...j.preState?.get(step) };
  const script = (file: string, name: string): ScriptRun => ({
    name,
    argv: [a.node, `${a.loaded.dir}/${file}`],
    action: true,
    script: '',
    shell: null,
    cwd: j.realSrc,
    env,
    timeoutMinutes: plan.timeoutMinutes,
    actionId: call.actionId,
    seq: ++j.seq,
    extraEnv: Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v] as const)),
    onState: (s) => Object.assign(state, s),
  });
  return { state, script };
}
