import type { Annotation } from '../model.ts';
import type { EvalContext } from '../pipelines/expr/evaluate.ts';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { renderTemplate } from '../pipelines/expr/template.ts';
import type { Value } from '../pipelines/expr/values.ts';
import { RUN_EXPRESSION_PREFIX } from '../pipelines/run-script.ts';
import type { JobRuntime } from './backend.ts';
import { parseKeyValues, readCommandFile, type CommandFiles } from './command-files.ts';
import { parseWorkflowCommand } from './workflow-commands.ts';

/** Annotations kept per job, as on GitHub. */
export const MAX_ANNOTATIONS = 50;
/** $GITHUB_STEP_SUMMARY kept per job; the rest is cut with a note. */
export const MAX_SUMMARY_BYTES = 64 * 1024;

/** What the steps of a job hand to the ones after them (and to the build). */
export interface StepFileState {
  /** From $GITHUB_ENV. */
  env: Record<string, string>;
  /** From $GITHUB_PATH, newest first. */
  path: string[];
  annotations: Annotation[];
  summary: string;
}

export function createStepFileState(): StepFileState {
  return { env: {}, path: [], annotations: [], summary: '' };
}

/** $GITHUB_ENV may not set these: pushci's own variables and the command files themselves. */
const PROTECTED = /^(?:PUSHCI_.*|GITHUB_(?:OUTPUT|ENV|PATH|STEP_SUMMARY|STATE|ACTION_PATH)|NODE_OPTIONS)$/;

/** Reads a step's command files into `state`; returns its outputs (for steps.<id>.outputs). */
export function collectStepFiles(
  files: CommandFiles,
  state: StepFileState,
  note: (message: string) => void,
  step: string,
): Record<string, string> {
  const read = (path: string, name: string) => {
    const r = readCommandFile(path);
    if (r.problem) note(`$${name} of step "${step}": ${r.problem}`);
    return r.text;
  };
  const parse = (text: string, name: string) => {
    const r = parseKeyValues(text);
    for (const p of r.problems) note(`$${name} of step "${step}": ${p}`);
    return r.values;
  };
  const outputs = parse(read(files.host.output, 'GITHUB_OUTPUT'), 'GITHUB_OUTPUT');
  for (const [k, v] of Object.entries(parse(read(files.host.env, 'GITHUB_ENV'), 'GITHUB_ENV'))) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || PROTECTED.test(k) || k.startsWith(RUN_EXPRESSION_PREFIX))
      note(`$GITHUB_ENV of step "${step}": ${k} cannot be set this way; it is ignored`);
    else state.env[k] = v;
  }
  for (const line of read(files.host.path, 'GITHUB_PATH').split('\n').reverse()) {
    const dir = line.trim();
    if (dir && !dir.includes(':')) state.path.unshift(dir);
  }
  const summary = read(files.host.summary, 'GITHUB_STEP_SUMMARY');
  if (summary.trim()) {
    const room = MAX_SUMMARY_BYTES - Buffer.byteLength(state.summary);
    if (room > 0) {
      const bytes = Buffer.from(summary);
      state.summary +=
        bytes.length <= room
          ? summary
          : `${bytes.subarray(0, room).toString('utf8')}\n\n_(summary cut at ${MAX_SUMMARY_BYTES} bytes)_\n`;
    }
  }
  return outputs;
}

/**
 * Handles the workflow commands in a step's output: ::add-mask:: (masked from then on, that line
 * included), ::error::/::warning::/::notice:: (annotations), ::stop-commands:: (output until the
 * token comes back is not read as commands). Returns whether the line goes into the log: all do but
 * `::debug::` lines, which only do with `debug` (GitHub's ACTIONS_STEP_DEBUG).
 */
export function workflowCommandReader(
  step: string,
  addMask: (value: string) => void,
  annotations: Annotation[],
  /** `::set-output` and `::save-state` values (GitHub still honours them, with a warning). */
  legacy?: { outputs: Record<string, string>; state: Record<string, string> },
  debug = false,
): (line: string) => boolean {
  let stopToken: string | null = null;
  return (line) => {
    if (stopToken !== null) {
      if (line.trim() === `::${stopToken}::`) stopToken = null;
      return true;
    }
    const c = parseWorkflowCommand(line);
    if (!c) return true;
    if (c.kind === 'debug') return debug;
    if (c.kind === 'add-mask') addMask(c.value);
    else if (c.kind === 'stop-commands') stopToken = c.token || null;
    else if (c.kind === 'set-output') {
      if (legacy) legacy.outputs[c.name] = c.value;
    } else if (c.kind === 'save-state') {
      if (legacy) legacy.state[c.name] = c.value;
    } else if (c.kind === 'annotation' && annotations.length < MAX_ANNOTATIONS)
      annotations.push({ ...c.annotation, step });
    return true;
  };
}

/** GitHub's step debug logging: the secret or variable ACTIONS_STEP_DEBUG is "true". */
export function stepDebug(contexts: { [name: string]: Value }): boolean {
  const on = (ctx: Value | undefined) =>
    typeof ctx === 'object' && ctx !== null && !Array.isArray(ctx)
      ? String((ctx as { [k: string]: Value }).ACTIONS_STEP_DEBUG ?? '').toLowerCase() === 'true'
      : false;
  return on(contexts.secrets) || on(contexts.vars);
}

/** The GITHUB_* and RUNNER_* variables GitHub's runner sets, next to pushci's CI_* ones. */
export function actionsEnv(
  contexts: { [name: string]: Value },
  rt: Pick<JobRuntime, 'workspace' | 'tmp'>,
  action: string,
): Record<string, string> {
  const g = contexts.github as { [k: string]: Value };
  const r = contexts.runner as { [k: string]: Value };
  const str = (v: Value | undefined) =>
    typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
  return {
    GITHUB_WORKFLOW: str(g.workflow),
    GITHUB_RUN_ID: str(g.run_id),
    GITHUB_RUN_NUMBER: str(g.run_number),
    GITHUB_RUN_ATTEMPT: str(g.run_attempt),
    GITHUB_JOB: str(g.job),
    GITHUB_ACTION: action,
    GITHUB_ACTOR: str(g.actor),
    GITHUB_TRIGGERING_ACTOR: str(g.triggering_actor),
    GITHUB_REPOSITORY: str(g.repository),
    GITHUB_REPOSITORY_OWNER: str(g.repository_owner),
    GITHUB_EVENT_NAME: str(g.event_name),
    GITHUB_SHA: str(g.sha),
    GITHUB_REF: str(g.ref),
    GITHUB_REF_NAME: str(g.ref_name),
    GITHUB_REF_TYPE: str(g.ref_type),
    GITHUB_HEAD_REF: str(g.head_ref),
    GITHUB_BASE_REF: str(g.base_ref),
    GITHUB_WORKSPACE: rt.workspace,
    RUNNER_OS: str(r.os),
    RUNNER_ARCH: str(r.arch),
    RUNNER_NAME: str(r.name),
    RUNNER_TEMP: rt.tmp,
    RUNNER_TOOL_CACHE: rt.tmp,
    RUNNER_ENVIRONMENT: 'self-hosted',
    // Step debug logging (ACTIONS_STEP_DEBUG): what @actions/core's isDebug() reads.
    ...(r.debug === '1' ? { RUNNER_DEBUG: '1' } : {}),
  };
}

/** A job's `outputs:` evaluated at its end; one that cannot be evaluated is left out, with a note. */
export function jobOutputs(
  templates: Readonly<Record<string, string>>,
  ctx: EvalContext,
  note: (message: string) => void,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, t] of Object.entries(templates)) {
    try {
      out[k] = renderTemplate(t, ctx);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      note(`output "${k}" cannot be evaluated: ${err.message}`);
    }
  }
  return out;
}
