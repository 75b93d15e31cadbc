import { join } from 'node:path';
import { scriptExtension } from '../pipelines/shells.ts';
import {
  commandFilesDir,
  createCommandFiles,
  parseKeyValues,
  readCommandFile,
  takeCommandFiles,
} from './command-files.ts';
import { usesGateway } from './expose-job-gateway.ts';
import { gatewayHint } from './gateway-hint.ts';
import { runStep, scriptFileOp, type StepResult } from './run-step.ts';
import { actionsEnv, collectStepFiles, workflowCommandReader } from './step-files.ts';
import type { JobEnd, StepOutcome, StepsJob } from './steps-job.ts';

export interface ScriptRun {
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
  /** An action's process (a node action's script): it gets the gateway's variables. */
  action?: boolean;
  /** Extra variables, after everything else (STATE_* of a post step). */
  extraEnv?: Record<string, string>;
  /** Receives the GITHUB_STATE values the script saved. */
  onState?: (state: Record<string, string>) => void;
}

/** Linux starts no process whose arguments and environment pass 2 MiB (ARG_MAX with an 8 MiB stack). */
const MAX_ENV_CHARS = 2 * 1024 * 1024;

/** One process of a step: a run: script or a node action's script; its command files are read after it. */
export async function runScript(j: StepsJob, s: ScriptRun): Promise<StepOutcome | JobEnd> {
  const { rt, dirs } = j;
  const stepTimeout = s.timeoutMinutes ? s.timeoutMinutes * 60_000 : Infinity;
  const left = j.deadline - Date.now();
  const started = Date.now();
  const scriptFile = join(dirs.scripts, `step-${s.seq}${scriptExtension(s.shell)}`);
  // The script goes to the file thread with the command files: one handoff for both.
  const commandFiles = await createCommandFiles(
    dirs.tmp,
    rt.tmp,
    commandFilesDir(dirs),
    s.seq,
    j.files,
    s.argv ? [] : [scriptFileOp({ script: s.script, scriptFile })],
  );
  const legacy = { outputs: {} as Record<string, string>, state: {} as Record<string, string> };
  // Step debug logging (ACTIONS_STEP_DEBUG), as the job's runner context says.
  const debug = (j.contexts.runner as { debug?: unknown } | undefined)?.debug === '1';
  const commands = workflowCommandReader(s.name, j.addMask, j.fromSteps.annotations, legacy, debug);
  const env = scriptEnv(j, s, commandFiles.env);
  // Counted before anything is made of it: many values of up to 1 MiB each would be flattened, then
  // refused by the kernel (E2BIG) anyway.
  const size = Object.entries(env).reduce((n, [k, v]) => n + k.length + v.length + 2, 0);
  if (size > MAX_ENV_CHARS)
    throw new Error(
      `the environment of step "${s.name}" holds ${size} characters, more than a process can be started with (${MAX_ENV_CHARS})`,
    );
  const gateway = usesGateway(env, j.gatewayEnv);
  if (gateway) await j.openGateway();
  // A run: script that names the runtime's variables but was not given them: the log says why.
  const hint = s.action ? null : gatewayHint(s.name, s.script, env, j.gatewayEnv);
  if (hint) j.log.system(hint);
  const res: StepResult = await runStep(rt, {
    script: s.script,
    ...(s.argv ? { argv: s.argv } : {}),
    shell: s.shell,
    ...(j.files ? { files: j.files } : {}),
    scriptFile,
    scriptWritten: true,
    cwd: s.cwd,
    env,
    gateway,
    timeoutMs: Math.max(1, Math.min(stepTimeout, left)),
    killGraceMs: j.killGraceMs,
    signal: j.stop,
    cut: j.cut,
    onStarted: () => j.timings?.lap('sandbox start'),
    onLine: (stream, line) => {
      if (stream === 'out' && !commands(line)) return;
      j.log.write(stream, line);
    },
  });
  j.timings?.lap('step');
  // Every process of the step has ended, but a service or a process it left may still write /tmp.
  takeCommandFiles(commandFiles);
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
  return scriptOutcome(j, s, res, { took, jobTimedOut: res.timedOut && stepTimeout >= left, outputs });
}

/** The process's environment: the step's, the runner's and the command files', in that order of strength. */
function scriptEnv(
  j: StepsJob,
  s: ScriptRun,
  commandFilesEnv: Record<string, string>,
): Record<string, string> {
  return {
    ...s.env,
    ...actionsEnv(j.contexts, j.rt, s.actionId),
    ...commandFilesEnv,
    PATH: [...j.fromSteps.path, s.env.PATH].filter(Boolean).join(':'),
    ...j.rt.env,
    ...j.servicesEnv,
    ...(s.action ? j.gatewayEnv : {}),
    ...s.extraEnv,
  };
}

/** How the process ended, logged: the job's end (cancel, job timeout), or the step's outcome. */
function scriptOutcome(
  j: StepsJob,
  s: ScriptRun,
  res: StepResult,
  { took, jobTimedOut, outputs }: { took: string; jobTimedOut: boolean; outputs: Record<string, string> },
): StepOutcome | JobEnd {
  if (j.ending && (res.canceled || jobTimedOut)) {
    // A step of the cleanup after a cancel or a timeout, stopped in its turn.
    j.log.system(`pushci: step "${s.name}" canceled after ${took}: ${whyCleanupEnded(j)}`);
    return { end: j.ending };
  }
  if (res.canceled && j.cancel?.aborted) {
    j.log.system(`pushci: step "${s.name}" canceled after ${took}`);
    return {
      end: { status: 'canceled', exitCode: res.exitCode, reason: String(j.cancel.reason ?? 'canceled') },
    };
  }
  if (res.canceled || jobTimedOut) {
    const reason = `${j.timeoutText} (in step "${s.name}")`;
    j.log.system(`pushci: ${reason}`);
    return { end: { status: 'failure', exitCode: res.exitCode, reason } };
  }
  let problem: string | null = null;
  if (res.timedOut) problem = `step "${s.name}" timed out after ${s.timeoutMinutes} min`;
  else if (res.limit) problem = `step "${s.name}" ${res.limit}`;
  else {
    const code = res.exitCode;
    const how = code === null ? `signal ${res.signal}` : `exit code ${code}`;
    j.log.system(`pushci: step "${s.name}" ${code === 0 ? 'succeeded' : `failed with ${how}`} in ${took}`);
    if (code !== 0) problem = `step "${s.name}" failed (${how})`;
  }
  return { problem, logProblem: res.timedOut || res.limit !== null, exitCode: res.exitCode, outputs };
}

/** Why the steps that run after a cancel or a timeout (the cleanup) were stopped, in words. */
export function whyCleanupEnded(j: Pick<StepsJob, 'stop' | 'ending'>): string {
  const after = j.ending?.status === 'canceled' ? 'cancel' : 'timeout';
  const reason: unknown = j.stop.reason;
  if (reason === 'shutdown') return 'the worker is shutting down (its PUSHCI_SHUTDOWN_GRACE_MS is over)';
  if (reason instanceof DOMException && reason.name === 'TimeoutError')
    return `the time for the steps after the ${after} (PUSHCI_CANCEL_CLEANUP_MS) is over`;
  return after === 'cancel' ? 'the build was cancelled again' : 'the build was cancelled';
}
