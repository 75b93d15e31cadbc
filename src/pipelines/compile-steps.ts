import { DOCKER_ACTION_PROBLEM } from './action-file.ts';
import { parseActionRef } from './action-ref.ts';
import type { CompileContext, Path } from './compile-context.ts';
import type { Place } from './expr/check-expression.ts';
import { place, type PlaceName } from './expr/places.ts';
import { hasExpression } from './expr/template.ts';
import type { JobNames } from './job-names.ts';
import type { StepDef } from './pipeline.ts';
import type { PipelineFile } from './schema.ts';
import { isPosixShell, shellCommand } from './shells.ts';
import { scriptTitle } from './script-title.ts';

type WrittenJob = PipelineFile['jobs'][string];
type WrittenStep = NonNullable<WrittenJob['steps']>[number];

/**
 * A job's steps: run: or uses:, each `${{ }}` checked against what the step may read (earlier steps'
 * ids, env in scope), and each `${{ }}` of a script turned into a variable (data, never code).
 */
export function compileSteps(
  cx: CompileContext,
  data: PipelineFile,
  j: WrittenJob,
  jobId: string,
  names: JobNames,
  jobEnvNames: ReadonlySet<string>,
): { steps: StepDef[]; stepIds: Set<string> } {
  const jp: Path = ['jobs', jobId];
  const defaultsRun = { ...data.defaults?.run, ...j.defaults?.run };
  const stepIds = new Set<string>();
  const steps: StepDef[] = (j.steps ?? []).map((s, i) => {
    const sp: Path = [...jp, 'steps', i];
    const stepNames = names(new Set(stepIds), new Set([...jobEnvNames, ...Object.keys(s.env ?? {})]));
    if (s.id !== undefined) {
      if (stepIds.has(s.id))
        cx.report(cx.pos.of([...sp, 'id']), `step id "${s.id}" is used twice in job "${jobId}"`);
      stepIds.add(s.id);
    }
    const run = s.run ?? '';
    checkRunOrUses(cx, s, sp, `${jobId}'s step ${i + 1}`);
    const withInputs: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.with ?? {})) {
      withInputs[k] = v === null ? '' : String(v);
      if (typeof v === 'string' && hasExpression(v))
        cx.expressions.template(v, [...sp, 'with', k], place("a step's with:", stepNames));
    }
    const shellName = s.shell ?? defaultsRun.shell;
    const shell = shellName === undefined ? null : shellCommand(shellName);
    const stepPlace = (where: PlaceName) => place(where, stepNames);
    if (s.name !== undefined) cx.expressions.template(s.name, [...sp, 'name'], stepPlace("a step's name"));
    const stepIf = s.if === undefined ? null : typeof s.if === 'boolean' ? String(s.if) : s.if;
    if (stepIf !== null) cx.expressions.condition(stepIf, [...sp, 'if'], stepPlace("a step's if:"));
    const timeout = s['timeout-minutes'];
    if (typeof timeout === 'string')
      cx.expressions.template(timeout, [...sp, 'timeout-minutes'], stepPlace("a step's timeout-minutes"));
    const cont = s['continue-on-error'];
    if (typeof cont === 'string')
      cx.expressions.template(cont, [...sp, 'continue-on-error'], stepPlace("a step's continue-on-error"));
    const rewritten = hasExpression(run)
      ? scriptWithVariables(cx, run, [...sp, 'run'], shellName, stepPlace)
      : null;
    const workingDirectory = s['working-directory'] ?? defaultsRun['working-directory'] ?? null;
    if (workingDirectory !== null && hasExpression(workingDirectory))
      cx.report(
        cx.pos.of([...sp, 'working-directory']),
        'working-directory cannot use ${{ }}: paths come from the pipeline file only',
      );
    return {
      ...(s.id !== undefined ? { id: s.id } : {}),
      name: s.name ?? (s.uses !== undefined ? s.uses.trim() : scriptTitle(run)),
      ...(s.uses !== undefined ? { uses: s.uses.trim(), with: withInputs } : {}),
      ...(s.name !== undefined && hasExpression(s.name) ? { nameTemplate: true } : {}),
      run: run,
      ...(rewritten ? rewritten : {}),
      ...(stepIf !== null ? { if: stepIf } : {}),
      env: cx.envMap(s.env, [...sp, 'env'], stepPlace("a step's env")),
      timeoutMinutes: timeout ?? null,
      continueOnError: cont ?? false,
      workingDirectory,
      shell,
    };
  });
  return { steps, stepIds };
}

/** A step runs a script or an action, one of the two; `with:` goes with an action that can run here. */
function checkRunOrUses(cx: CompileContext, s: WrittenStep, sp: Path, which: string): void {
  if (s.run === undefined && s.uses === undefined)
    cx.report(
      cx.pos.of(sp),
      `missing required key "run" in ${which}: the script the step runs (or uses: for an action)`,
    );
  if (s.run !== undefined && s.uses !== undefined)
    cx.report(cx.pos.ofKey(sp, 'uses'), 'a step has either run: or uses:, not both');
  if (s.with !== undefined && s.uses === undefined)
    cx.report(cx.pos.ofKey(sp, 'with'), 'with: gives inputs to an action: it goes with uses:');
  if (s.uses !== undefined) {
    const ref = parseActionRef(s.uses);
    if ('problem' in ref) cx.report(cx.pos.of([...sp, 'uses']), ref.problem);
    else if (ref.kind === 'docker') cx.report(cx.pos.of([...sp, 'uses']), `uses: ${DOCKER_ACTION_PROBLEM}`);
  }
}

/**
 * A script's `${{ }}` as variables the script reads (data, never code): the script rewritten and the
 * expressions behind its variables; null after a problem, or in a shell that cannot read them safely.
 */
function scriptWithVariables(
  cx: CompileContext,
  run: string,
  path: Path,
  shellName: string | undefined,
  stepPlace: (where: PlaceName) => Place,
): Pick<StepDef, 'script' | 'expressions'> | null {
  const shell = shellName === undefined ? null : shellCommand(shellName);
  const rewritten = cx.expressions.run(run, path, stepPlace("a step's run"));
  if (!rewritten) return null;
  if (!isPosixShell(shell)) {
    cx.report(
      cx.pos.inString(path, run.indexOf('${{')),
      `\${{ }} in a ${shellName} script cannot be passed as data; set the value in env: and read it from the environment`,
    );
    return null;
  }
  return {
    script: rewritten.script,
    expressions: rewritten.expressions.map((e) => ({ variable: e.variable, source: e.source })),
  };
}
