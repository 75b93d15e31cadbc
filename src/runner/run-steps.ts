import { realpath } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import type { ActionDef, ActionStep } from '../pipelines/action-file.ts';
import { DOCKER_ACTION_PROBLEM } from '../pipelines/action-file.ts';
import { parseActionRef, type ActionRef } from '../pipelines/action-ref.ts';
import type { EvalContext } from '../pipelines/expr/evaluate.ts';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { evaluateCondition, evaluateTemplate, renderTemplate } from '../pipelines/expr/template.ts';
import { toBoolean, toNumber, toText, type Value } from '../pipelines/expr/values.ts';
import { scriptExtension } from '../pipelines/shells.ts';
import type { StepDef } from '../pipelines/pipeline.ts';
import type { JobResult } from '../builds/lifecycle.ts';
import type { JobDirs, JobRuntime } from './backend.ts';
import { createCommandFiles, parseKeyValues, readCommandFile } from './command-files.ts';
import { hashFiles } from './hash-files.ts';
import type { JobLog } from './job-log.ts';
import type { JobTimings } from './job-timings.ts';
import { actionInputVariable, inputValues } from './action-inputs.ts';
import { describeShell, runStep, type StepResult } from './run-step.ts';
import { renderEnv } from './step-env.ts';
import { builtinAction, checkoutPlan } from './builtin-actions.ts';
import { actionsEnv, collectStepFiles, workflowCommandReader, type StepFileState } from './step-files.ts';

/** Composite actions may call actions this deep (GitHub's limit too). */
export const MAX_ACTION_DEPTH = 10;

/** An action ready to run: where its files are (on the worker and as the steps see them) and its definition. */
export interface LoadedAction {
  /** Shown in the log: `./path` or `owner/repo@ref` (with the commit). */
  label: string;
  /** Folder of the action on the worker. */
  hostDir: string;
  /** The same folder as the steps see it. */
  dir: string;
  def: ActionDef;
}

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
  /** Variables for the actions/cache protocol. */
  cacheEnv: Record<string, string>;
  fromSteps: StepFileState;
  addMask(value: string): void;
  /** The job's own working directory (job `working-directory`), relative to the checkout. */
  jobWorkingDirectory: string | null;
  killGraceMs: number;
  /** Aborted on cancel or job timeout. */
  stop: AbortSignal;
  /** The cancel signal alone (to tell cancel from timeout). */
  cancel: AbortSignal | undefined;
  deadline: number;
  /** "job timed out after N min" */
  timeoutText: string;
  /** How the job ends once `stop` is aborted; `where` goes into the log. */
  stopped(where: string): JobResult;
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

/** Where a list of steps runs: the job itself, or inside a composite action. */
interface Frame {
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

/** A step of either kind, the way runSteps needs it. */
interface AnyStep {
  id: string | null;
  name: string;
  nameTemplate: boolean;
  if: string | null;
  script: string | null;
  expressions: Array<{ variable: string; source: string }>;
  shell: string | null;
  uses: string | null;
  with: Record<string, string>;
  env: Record<string, string>;
  workingDirectory: string | null;
  timeoutMinutes: number | string | null;
  continueOnError: boolean | string;
}

export interface Failure {
  exitCode: number | null;
  reason: string;
}

const fromStepDef = (s: StepDef): AnyStep => ({
  id: s.id ?? null,
  name: s.name,
  nameTemplate: s.nameTemplate ?? false,
  if: s.if ?? null,
  script: s.uses !== undefined ? null : (s.script ?? s.run),
  expressions: s.expressions ?? [],
  shell: s.shell,
  uses: s.uses ?? null,
  with: s.with ?? {},
  env: s.env,
  workingDirectory: s.workingDirectory,
  timeoutMinutes: s.timeoutMinutes,
  continueOnError: s.continueOnError,
});

const fromActionStep = (s: ActionStep): AnyStep => ({
  ...s,
  nameTemplate: s.name.includes('${{'),
  timeoutMinutes: null,
});

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

async function runSteps(
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

function stepContext(
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

interface Plan {
  name: string;
  /** The whole environment of a script step (base, job, step env, ${{ }} variables). */
  env: Record<string, string>;
  /** The step's own `env:`, rendered. */
  own: Record<string, string>;
  timeoutMinutes: number | null;
  continueOnError: boolean;
}

/** What a step's expressions say: its shown name, environment, timeout and continue-on-error. */
function stepPlan(
  step: AnyStep,
  ctx: EvalContext,
  jobEnv: Record<string, string>,
  base: Record<string, string>,
): Plan {
  const name = step.nameTemplate ? renderTemplate(step.name, ctx).replace(/\s*\n\s*/g, ' ') : step.name;
  const own = renderEnv(step.env, ctx);
  const env = { ...base, ...jobEnv, ...own };
  // Each ${{ }} of the script reaches it as a variable: data, never code.
  const valueCtx: EvalContext = {
    ...ctx,
    contexts: { ...ctx.contexts, env: { ...(ctx.contexts.env as object), ...own } },
  };
  for (const e of step.expressions) env[e.variable] = toText(evaluateTemplate(`\${{${e.source}}}`, valueCtx));
  const t = step.timeoutMinutes;
  let timeoutMinutes: number | null = null;
  if (typeof t === 'number') timeoutMinutes = t;
  else if (typeof t === 'string') {
    const v = toNumber(evaluateTemplate(t, valueCtx));
    if (!(v > 0)) throw new ExpressionError(`timeout-minutes ${t} is ${v}, not a positive number of minutes`);
    timeoutMinutes = v;
  }
  const c = step.continueOnError;
  const continueOnError = typeof c === 'string' ? toBoolean(evaluateTemplate(c, valueCtx)) : c;
  return { name, env, own, timeoutMinutes, continueOnError };
}

const inside = (p: string, root: string) => p === root || p.startsWith(root + sep);

/**
 * The working directory of a script step, checked: inside the checkout (a committed symlink must not
 * lead out), or inside the running action's own folder (`${{ github.action_path }}`).
 */
async function stepCwd(
  j: StepsJob,
  frame: Frame,
  step: AnyStep,
  plan: Plan,
  ctx: EvalContext,
): Promise<{ dir: string } | { problem: string }> {
  let where: string;
  if (frame.depth === 0) where = join(j.jobWorkingDirectory ?? '.', step.workingDirectory ?? '.');
  else {
    // In an action, working-directory may name the action's folder through ${{ github.action_path }}.
    try {
      where = step.workingDirectory === null ? '.' : renderTemplate(step.workingDirectory, ctx);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      return { problem: `working directory of step "${plan.name}": ${err.message}` };
    }
  }
  const action = frame.action;
  let host: string;
  if (action && isAbsolute(where) && inside(where, action.dir))
    host = join(action.hostDir, where.slice(action.dir.length));
  else if (isAbsolute(where) && inside(where, j.rt.workspace))
    host = join(j.dirs.src, where.slice(j.rt.workspace.length));
  else if (isAbsolute(where))
    return { problem: `working directory "${where}" of step "${plan.name}" is outside the checkout` };
  else host = join(j.dirs.src, where);
  const real = await realpath(host).catch(() => null);
  const realAction = action ? await realpath(action.hostDir).catch(() => null) : null;
  if (real === null)
    return { problem: `working directory "${where}" of step "${plan.name}" does not exist in the checkout` };
  if (!inside(real, j.realSrc) && !(realAction && inside(real, realAction)))
    return {
      problem: `working directory "${where}" of step "${plan.name}" leads outside the checkout (through a symlink)`,
    };
  return { dir: real };
}

interface StepOutcome {
  problem: string | null;
  /** The problem still needs its own log line (timeouts, limits, action problems). */
  logProblem: boolean;
  exitCode: number | null;
  outputs: Record<string, string>;
}

interface ScriptRun {
  name: string;
  /** A program to run instead of a script (a node action). */
  argv: string[] | null;
  script: string;
  shell: string | null;
  cwd: string;
  env: Record<string, string>;
  timeoutMinutes: number | null;
  actionId: string;
  seq: number;
  /** Extra variables, after everything else (STATE_* of a post step). */
  extraEnv?: Record<string, string>;
  /** Receives the GITHUB_STATE values the script saved. */
  onState?: (state: Record<string, string>) => void;
}

/** One process of a step: a run: script or a node action's script; its command files are read after it. */
async function runScript(j: StepsJob, s: ScriptRun): Promise<StepOutcome | JobEnd> {
  const { rt, dirs } = j;
  const stepTimeout = s.timeoutMinutes ? s.timeoutMinutes * 60_000 : Infinity;
  const left = j.deadline - Date.now();
  const started = Date.now();
  const commandFiles = createCommandFiles(dirs.tmp, rt.tmp, s.seq);
  const env = {
    ...s.env,
    ...actionsEnv(j.contexts, rt, s.actionId),
    ...commandFiles.env,
    PATH: [...j.fromSteps.path, s.env.PATH].filter(Boolean).join(':'),
    ...rt.env,
    ...j.cacheEnv,
    ...s.extraEnv,
  };
  const legacy = { outputs: {} as Record<string, string>, state: {} as Record<string, string> };
  const commands = workflowCommandReader(s.name, j.addMask, j.fromSteps.annotations, legacy);
  const res: StepResult = await runStep(rt, {
    script: s.script,
    ...(s.argv ? { argv: s.argv } : {}),
    shell: s.shell,
    scriptFile: join(dirs.scripts, `step-${s.seq}${scriptExtension(s.shell)}`),
    cwd: s.cwd,
    env,
    timeoutMs: Math.max(1, Math.min(stepTimeout, left)),
    killGraceMs: j.killGraceMs,
    signal: j.stop,
    onStarted: () => j.timings?.lap('sandbox start'),
    onLine: (stream, line) => {
      if (stream === 'out') commands(line);
      j.log.write(stream, line);
    },
  });
  j.timings?.lap('step');
  // Every process of the step has ended: what it left in its command files is final.
  const outputs = {
    ...legacy.outputs,
    ...collectStepFiles(commandFiles, j.fromSteps, (m) => j.log.system(`pushci: ${m}`), s.name),
  };
  if (s.onState) {
    const r = readCommandFile(commandFiles.host.state);
    if (r.problem) j.log.system(`pushci: $GITHUB_STATE of step "${s.name}": ${r.problem}`);
    s.onState({ ...legacy.state, ...parseKeyValues(r.text).values });
  }
  const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  if (res.canceled && j.cancel?.aborted) {
    j.log.system(`pushci: step "${s.name}" canceled after ${took}`);
    return {
      end: { status: 'canceled', exitCode: res.exitCode, reason: String(j.cancel.reason ?? 'canceled') },
    };
  }
  if (res.canceled || (res.timedOut && stepTimeout >= left)) {
    const reason = `${j.timeoutText} (in step "${s.name}")`;
    j.log.system(`pushci: ${reason}`);
    return { end: { status: 'failure', exitCode: res.exitCode, reason } };
  }
  let problem: string | null = null;
  if (res.timedOut) problem = `step "${s.name}" timed out after ${s.timeoutMinutes} min`;
  else if (res.limit) problem = `step "${s.name}" ${res.limit}`;
  else {
    const code = res.exitCode;
    j.log.system(
      `pushci: step "${s.name}" ${code === 0 ? 'succeeded' : `failed with ${code === null ? `signal ${res.signal}` : `exit code ${code}`}`} in ${took}`,
    );
    if (code !== 0)
      problem = `step "${s.name}" failed (${code === null ? `signal ${res.signal}` : `exit code ${code}`})`;
  }
  return { problem, logProblem: res.timedOut || res.limit !== null, exitCode: res.exitCode, outputs };
}

/** A `uses:` step: loads the action, works out its inputs, and runs it by its kind. */
async function runAction(
  j: StepsJob,
  step: AnyStep,
  plan: Plan,
  ctx: EvalContext,
  frame: Frame,
  actionId: string,
  anyFailed: boolean,
  phase: 'pre',
): Promise<StepOutcome | JobEnd | null>;
async function runAction(
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
async function runAction(
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

/** `actions/checkout`: the workspace already is the commit; a `path:` gets a copy, made by a step. */
async function builtinCheckout(
  j: StepsJob,
  step: AnyStep,
  plan: Plan,
  ctx: EvalContext,
  frame: Frame,
  actionId: string,
): Promise<StepOutcome | JobEnd> {
  const g = j.contexts.github as { [k: string]: Value };
  const build = {
    repository: String(g.repository ?? ''),
    sha: String(g.sha ?? ''),
    ref: String(g.ref ?? ''),
  };
  let inputs: Record<string, string>;
  try {
    inputs = Object.fromEntries(
      Object.entries(step.with).map(([k, v]) => [k, renderTemplate(v, ctx)] as const),
    );
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    return {
      problem: `step "${plan.name}": expression error in with: ${err.message}`,
      logProblem: true,
      exitCode: null,
      outputs: {},
    };
  }
  const p = checkoutPlan(inputs, build);
  if ('problem' in p)
    return { problem: `step "${plan.name}": ${p.problem}`, logProblem: true, exitCode: null, outputs: {} };
  for (const n of p.notes) j.log.system(`pushci: ${n}`);
  const outputs = { ref: build.ref, commit: build.sha };
  if (p.path === null) return { problem: null, logProblem: false, exitCode: 0, outputs };
  // In the job's own sandbox: whatever an earlier step put at that path stays the job's problem.
  const r = await runScript(j, {
    name: plan.name,
    argv: null,
    script:
      'if [ -e "$PUSHCI_CHECKOUT_PATH" ] && [ -n "$(ls -A "$PUSHCI_CHECKOUT_PATH" 2>/dev/null)" ]; then echo "$PUSHCI_CHECKOUT_PATH is not empty" >&2; exit 1; fi\n' +
      'git clone -q --shared --no-checkout -- "$GITHUB_WORKSPACE" "$PUSHCI_CHECKOUT_PATH"\n' +
      'git -C "$PUSHCI_CHECKOUT_PATH" -c advice.detachedHead=false checkout -q --detach "$PUSHCI_CHECKOUT_SHA"\n',
    shell: 'sh -e {0}',
    cwd: j.realSrc,
    env: { ...plan.env, ...frame.processEnv, PUSHCI_CHECKOUT_PATH: p.path, PUSHCI_CHECKOUT_SHA: build.sha },
    timeoutMinutes: plan.timeoutMinutes,
    actionId,
    seq: ++j.seq,
  });
  if ('end' in r) return r;
  return { ...r, outputs };
}
