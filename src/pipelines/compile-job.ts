import { list, type CompileContext, type Path } from './compile-context.ts';
import { compileArtifacts, compileCaches } from './compile-job-files.ts';
import { compileSteps } from './compile-steps.ts';
import { compileStrategy } from './compile-strategy.ts';
import { place, type PlaceName } from './expr/places.ts';
import { usesStatusFunction } from './expr/template.ts';
import { jobNames, type JobNames } from './job-names.ts';
import { expandVariants } from './job-variants.ts';
import type { JobDef } from './pipeline.ts';
import type { PipelineFile } from './schema.ts';
import { compileServices } from './services.ts';

const UNSUPPORTED_JOB_KEYS = [
  ['uses', 'reusable workflows (jobs.<id>.uses); copy the called workflow’s jobs into this file'],
  ['with', 'inputs of reusable workflows (jobs.<id>.with)'],
  ['secrets', 'secrets of reusable workflows (jobs.<id>.secrets); steps read ${{ secrets.NAME }} directly'],
  ['container', 'container: jobs run in pushci’s sandbox on the worker, not in a container image'],
] as const;

/**
 * One job as written: its needs, expressions, steps, caches, artifacts and services checked, then one
 * JobDef per matrix combination. `artifactOwners` collects which job makes each artifact.
 */
export function compileJob(
  cx: CompileContext,
  data: PipelineFile,
  jobId: string,
  artifactOwners: Map<string, string>,
): JobDef[] {
  const workflowEnvNames = new Set(Object.keys(data.env ?? {}));
  const j = data.jobs[jobId]!;
  const jp: Path = ['jobs', jobId];
  const needs = list(j.needs) ?? [];
  needs.forEach((n, i) => {
    const np = Array.isArray(j.needs) ? [...jp, 'needs', i] : [...jp, 'needs'];
    if (n === jobId) cx.report(cx.pos.of(np), `job "${jobId}" needs itself`);
    else if (!(n in data.jobs))
      cx.report(cx.pos.of(np), `job "${jobId}" needs "${n}", which is not a job in this file`);
  });
  for (const [key, what] of UNSUPPORTED_JOB_KEYS) {
    // A reusable workflow call is one problem, whatever it passes along.
    if (j.uses !== undefined && (key === 'with' || key === 'secrets')) continue;
    if (j[key] !== undefined) cx.report(cx.pos.ofKey(jp, key), `not supported: ${what}`);
  }
  if (j.steps === undefined) {
    if (j.uses === undefined)
      cx.report(cx.pos.of(jp), `job "${jobId}" has no steps; add "steps:" with at least one run step`);
    return [];
  }
  if (j.steps.length === 0)
    cx.report(cx.pos.of([...jp, 'steps']), `job "${jobId}" has no steps; add at least one run step`);
  const jobEnvNames = new Set([...workflowEnvNames, ...Object.keys(j.env ?? {})]);
  const strategy = compileStrategy(cx, j.strategy, [...jp, 'strategy']);
  const names = jobNames(cx, jobId, needs, strategy);
  const namesOfJob = names(null, null);
  const { gate, condition } = jobGate(cx, j, jp, namesOfJob);
  const title = j.name ?? null;
  const titleOk =
    title !== null && cx.expressions.template(title, [...jp, 'name'], place("a job's name", namesOfJob));
  const jobTimeout = j['timeout-minutes'];
  const jobContinue = j['continue-on-error'];
  const runsOn = runsOnLabels(j, jp);
  const runsOnOk = runsOn.labels.every((l, i) =>
    cx.expressions.template(l, runsOn.path(i), place("a job's runs-on", namesOfJob)),
  );
  // A value written as an expression is checked here and evaluated for each matrix combination.
  const checked = (value: unknown, key: string, where: PlaceName) =>
    typeof value !== 'string' || cx.expressions.template(value, [...jp, key], place(where, namesOfJob));
  const timeoutOk = checked(jobTimeout, 'timeout-minutes', "a job's timeout-minutes");
  const continueOk = checked(jobContinue, 'continue-on-error', "a job's continue-on-error");
  const { steps, stepIds } = compileSteps(cx, data, j, jobId, names, jobEnvNames);
  const outputs: Record<string, string> = {};
  for (const [k, v] of Object.entries(j.outputs ?? {})) {
    outputs[k] = v;
    cx.expressions.template(v, [...jp, 'outputs', k], place("a job's outputs", names(stepIds, jobEnvNames)));
  }
  for (const wd of [j['working-directory'], ...steps.map((s) => s.workingDirectory)]) {
    if (wd && (wd.startsWith('/') || wd.split('/').includes('..'))) {
      cx.report(
        cx.pos.of([...jp]),
        `working-directory "${wd}" must stay inside the checkout (relative, without "..")`,
      );
    }
  }
  const caches = compileCaches(cx, j, jp);
  const artifacts = compileArtifacts(
    cx,
    j,
    jp,
    jobId,
    artifactOwners,
    strategy ? strategy.combinations.length : 1,
  );
  const env = cx.envMap(j.env, [...jp, 'env'], place("a job's env", names(null, workflowEnvNames)));
  const services = compileServices(j.services, [...jp, 'services'], {
    report: cx.report,
    of: (p) => cx.pos.of(p),
    ofKey: (p, k) => cx.pos.ofKey(p, k),
    inString: (p, o) => cx.pos.inString(p, o),
    env: (v, p) => cx.envMap(v, p, place("a job's env", names(null, jobEnvNames))),
  });
  return expandVariants(
    cx,
    {
      id: jobId,
      path: jp,
      strategy,
      title,
      titleOk,
      timeout: jobTimeout !== undefined && timeoutOk ? jobTimeout : null,
      continueOnError: jobContinue !== undefined && continueOk ? jobContinue : null,
      runsOn: runsOnOk ? runsOn : null,
      shared: {
        needs,
        if: gate,
        condition,
        env,
        outputs: j.outputs !== undefined ? outputs : null,
        workingDirectory: j['working-directory'] ?? null,
        network: j.network ?? data.network ?? 'default',
        caches,
        artifacts,
        services,
        steps,
      },
    },
    new Set(Object.keys(data.jobs)),
  );
}

/** The if: gate the lifecycle applies, and the condition the worker evaluates on top of it. */
function jobGate(
  cx: CompileContext,
  j: PipelineFile['jobs'][string],
  jp: Path,
  names: ReturnType<JobNames>,
): { gate: JobDef['if']; condition: string | null } {
  let gate: JobDef['if'] = 'success';
  let condition: string | null = null;
  if (j.if !== undefined) {
    const text = typeof j.if === 'boolean' ? String(j.if) : j.if;
    const simple = /^\s*(?:\$\{\{\s*)?(success|failure|always)\(\s*\)(?:\s*\}\})?\s*$/i.exec(text);
    if (simple) gate = simple[1]!.toLowerCase() as JobDef['if'];
    else {
      const parsed = cx.expressions.condition(text, [...jp, 'if'], place("a job's if:", names));
      if (parsed) {
        gate = usesStatusFunction(parsed.expr) ? 'always' : 'success';
        condition = text;
      }
    }
  }
  return { gate, condition };
}

/** runs-on as a list of labels (a label, a list, or `{ labels }`), each with where it is in the file. */
function runsOnLabels(
  j: PipelineFile['jobs'][string],
  jp: Path,
): { labels: string[]; path: (i: number) => Path } {
  const runsOnRaw = j['runs-on'];
  const runsOnWritten =
    runsOnRaw === undefined
      ? []
      : typeof runsOnRaw === 'string'
        ? [runsOnRaw]
        : Array.isArray(runsOnRaw)
          ? runsOnRaw
          : (list(runsOnRaw.labels) ?? []);
  const runsOnPath = (i: number): Path =>
    Array.isArray(runsOnRaw)
      ? [...jp, 'runs-on', i]
      : typeof runsOnRaw === 'string'
        ? [...jp, 'runs-on']
        : Array.isArray((runsOnRaw as { labels?: unknown }).labels)
          ? [...jp, 'runs-on', 'labels', i]
          : [...jp, 'runs-on', 'labels'];
  return { labels: runsOnWritten, path: runsOnPath };
}
