import { basename, extname } from 'node:path';
import type { Diagnostic } from './diagnostic.ts';
import { SECRET_ENV_PREFIX, findReferences, variableFor } from './expressions.ts';
import { settingEnvProblem } from './settings-env.ts';
import { createExpressionChecker } from './expression-checker.ts';
import type { Place } from './expr/check-expression.ts';
import { place, type PlaceName } from './expr/places.ts';
import { evaluateTemplate, hasExpression, usesStatusFunction } from './expr/template.ts';
import { toBoolean, toNumber, toText, type Value } from './expr/values.ts';
import type { EvalContext } from './expr/evaluate.ts';
import { combinationId, describeCombination, expandMatrix, type Combination } from './matrix.ts';
import { isPosixShell, shellCommand } from './shells.ts';
import { GlobSyntaxError, parseGlob, type Glob } from './glob.ts';
import { PULL_REQUEST_ACTIONS } from '../core/event.ts';
import { cronProblem } from './cron.ts';
import { inputProblem, inputVariable } from './inputs.ts';
import type {
  ArtifactDef,
  CacheDef,
  InputDef,
  JobDef,
  NotifyDef,
  Pipeline,
  PullRequestTrigger,
  ScheduleDef,
  SecretScope,
  StepDef,
} from './pipeline.ts';
import { scanCacheKey } from './cache-key.ts';
import { compileServices } from './services.ts';
import { parseActionRef } from './action-ref.ts';
import { DOCKER_ACTION_PROBLEM } from './action-file.ts';
import type { PipelineFile } from './schema.ts';
import type { Positions } from './positions.ts';
import type { OutboundEventType } from '../model.ts';

type Path = PropertyKey[];

const DEFAULT_EVENTS: OutboundEventType[] = ['build.queued', 'build.started', 'build.completed'];

/** What a pipeline id may be: it names keys, URLs and workspaces. */
export const PIPELINE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

const UNSUPPORTED_JOB_KEYS = [
  ['uses', 'reusable workflows (jobs.<id>.uses); copy the called workflow’s jobs into this file'],
  ['with', 'inputs of reusable workflows (jobs.<id>.with)'],
  ['secrets', 'secrets of reusable workflows (jobs.<id>.secrets); steps read ${{ secrets.NAME }} directly'],
  ['container', 'container: jobs run in pushci’s sandbox on the worker, not in a container image'],
] as const;

/**
 * Turns a schema-valid file into a Pipeline and checks what a schema cannot: globs, the `needs` graph,
 * `${{ }}` references against the server's environment, and filter combinations GitHub also refuses.
 * Collects every problem rather than stopping at the first.
 */
export function compilePipeline(
  file: string,
  data: PipelineFile,
  pos: Positions,
  env: Readonly<Record<string, string>>,
): { pipeline: Pipeline; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const report = (at: { line: number; col: number }, message: string) =>
    diagnostics.push({ file, ...at, message });

  const reported = new Set<string>();
  const reportOnce = (at: { line: number; col: number }, message: string) => {
    const key = `${at.line}:${at.col}:${message}`;
    if (!reported.has(key)) report(at, message);
    reported.add(key);
  };

  /** strategy: its combinations (none after a problem), fail-fast and max-parallel. */
  const compileStrategy = (
    value: PipelineFile['jobs'][string]['strategy'],
    path: Path,
  ): { combinations: Combination[]; failFast: boolean; maxParallel: number | null } | null => {
    if (value === undefined) return null;
    const failFast = value['fail-fast'] ?? true;
    const maxParallel = value['max-parallel'] ?? null;
    if (typeof value.matrix === 'string') {
      report(
        pos.of([...path, 'matrix']),
        'not supported: a matrix computed by an expression; list its values in the file',
      );
      return { combinations: [], failFast, maxParallel };
    }
    const withExpression = findExpressionPath(value.matrix);
    if (withExpression) {
      report(
        pos.of([...path, 'matrix', ...withExpression]),
        'not supported: ${{ }} in matrix values; list the values in the file',
      );
      return { combinations: [], failFast, maxParallel };
    }
    const { combinations, problems } = expandMatrix(value.matrix);
    for (const p of problems) report(pos.of([...path, 'matrix', ...p.path]), p.message);
    return { combinations, failFast, maxParallel };
  };

  const list = (value: string | string[] | undefined): string[] | null =>
    value === undefined ? null : Array.isArray(value) ? value : [value];

  const globs = (value: string | string[] | undefined, path: Path, allowNegation: boolean): Glob[] | null => {
    const items = list(value);
    if (!items) return null;
    const out: Glob[] = [];
    items.forEach((text, i) => {
      const itemPath = Array.isArray(value) ? [...path, i] : path;
      try {
        const g = parseGlob(text);
        if (g.negated && !allowNegation) {
          report(
            pos.of(itemPath),
            `"!" is not allowed in ${String(path.at(-1))}; use the list without -ignore and "!" patterns`,
          );
        }
        out.push(g);
      } catch (err) {
        if (!(err instanceof GlobSyntaxError)) throw err;
        const offset = err.offset + (text.startsWith('!') ? 1 : 0);
        report(pos.inString(itemPath, offset), `bad pattern "${text}": ${err.message}`);
      }
    });
    if (allowNegation && out.length > 0 && out.every((g) => g.negated)) {
      report(
        pos.of(path),
        `${String(path.at(-1))} has only "!" patterns, so it never matches; start with a positive pattern such as "**"`,
      );
    }
    return out;
  };

  const checkRefs = (text: string, path: Path) => {
    for (const ref of findReferences(text)) {
      const setting = 'error' in ref || ref.kind !== 'env' ? null : settingEnvProblem(ref.name);
      if ('error' in ref) report(pos.inString(path, ref.offset), ref.error);
      else if (setting) report(pos.inString(path, ref.offset), setting);
      else if (env[variableFor(ref)] === undefined) {
        const hint =
          ref.kind === 'secrets'
            ? `set ${SECRET_ENV_PREFIX}${ref.name} in the server's environment`
            : `set ${ref.name} in the server's environment`;
        report(pos.inString(path, ref.offset), `\${{ ${ref.kind}.${ref.name} }} is not defined: ${hint}`);
      }
    }
  };

  /** A path a job may keep: relative to the checkout (or `~/` for caches), never out of it. */
  const checkPath = (text: string, path: Path, home: boolean) => {
    const rel = home && text.startsWith('~/') ? text.slice(2) : text.replace(/^!/, '');
    if (rel.startsWith('/') || rel.startsWith('~') || rel.split('/').includes('..') || rel === '')
      report(
        pos.of(path),
        `"${text}" must stay inside the checkout (relative, without ".."${home ? '; or under ~/' : ''})`,
      );
  };

  const expressions = createExpressionChecker(pos, report, env);
  const envMap = (
    value: Record<string, string | number | boolean | null> | undefined,
    path: Path,
    where: Place,
  ) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value ?? {})) {
      out[k] = v === null ? '' : String(v);
      expressions.template(out[k], [...path, k], where);
    }
    return out;
  };

  const id =
    data.name !== undefined && PIPELINE_ID.test(data.name) ? data.name : basename(file, extname(file));
  if (!PIPELINE_ID.test(id)) {
    report(
      data.name === undefined ? { line: 1, col: 1 } : pos.of(['name']),
      `file name "${id}" cannot be a pipeline id; rename the file to letters, digits, ".", "_" and "-"${data.name === undefined ? ' or add a "name:" like that' : ''}`,
    );
  }
  const name = id;

  // Triggers: `on: push`, `on: [push, pull_request]`, or a map of events with their filters.
  const on =
    typeof data.on === 'string'
      ? { [data.on]: null }
      : Array.isArray(data.on)
        ? Object.fromEntries(data.on.map((k) => [k, null]))
        : data.on;
  const exclusive = (
    obj: Record<string, unknown>,
    path: Path,
    pairs: ReadonlyArray<readonly [string, string]>,
  ) => {
    for (const [a, b] of pairs) {
      if (obj[a] !== undefined && obj[b] !== undefined)
        report(pos.ofKey(path, b), `"${a}" and "${b}" cannot both be set; use "${a}" with "!" patterns`);
    }
  };
  let trigger: Pipeline['trigger'] = null;
  if ('push' in on) {
    const push = on.push ?? {};
    const pushPath: Path = ['on', 'push'];
    exclusive(push, pushPath, [
      ['branches', 'branches-ignore'],
      ['tags', 'tags-ignore'],
      ['paths', 'paths-ignore'],
    ]);
    trigger = {
      branches: globs(push.branches, [...pushPath, 'branches'], true),
      branchesIgnore: globs(push['branches-ignore'], [...pushPath, 'branches-ignore'], false),
      tags: globs(push.tags, [...pushPath, 'tags'], true),
      tagsIgnore: globs(push['tags-ignore'], [...pushPath, 'tags-ignore'], false),
      paths: globs(push.paths, [...pushPath, 'paths'], true),
      pathsIgnore: globs(push['paths-ignore'], [...pushPath, 'paths-ignore'], false),
    };
  }
  let pullRequest: PullRequestTrigger | null = null;
  if ('pull_request' in on) {
    const pr = on.pull_request ?? {};
    const prPath: Path = ['on', 'pull_request'];
    exclusive(pr, prPath, [
      ['branches', 'branches-ignore'],
      ['paths', 'paths-ignore'],
    ]);
    pullRequest = {
      branches: globs(pr.branches, [...prPath, 'branches'], true),
      branchesIgnore: globs(pr['branches-ignore'], [...prPath, 'branches-ignore'], false),
      types: pr.types ? [...new Set(pr.types)] : [...PULL_REQUEST_ACTIONS],
      paths: globs(pr.paths, [...prPath, 'paths'], true),
      pathsIgnore: globs(pr['paths-ignore'], [...prPath, 'paths-ignore'], false),
    };
  }
  const schedules: ScheduleDef[] = (('schedule' in on ? on.schedule : undefined) ?? []).map((sch, i) => {
    const problem = cronProblem(sch.cron);
    if (problem) report(pos.of(['on', 'schedule', i, 'cron']), `bad cron "${sch.cron}": ${problem}`);
    if (sch.branch !== undefined && !isBranchName(sch.branch))
      report(pos.of(['on', 'schedule', i, 'branch']), `"${sch.branch}" is not a valid branch name`);
    return { cron: sch.cron, branch: sch.branch ?? null, always: sch.always ?? false };
  });
  if (schedules.length > 0 && /[*?[{!]/.test(data.repository))
    report(
      pos.ofKey(['on'], 'schedule'),
      `a schedule builds one repository: "repository" must name it, not a pattern ("${data.repository}")`,
    );
  const inputs: InputDef[] = Object.entries(
    ('workflow_dispatch' in on ? on.workflow_dispatch?.inputs : undefined) ?? {},
  ).map(([inputName, d]) => {
    const ip: Path = ['on', 'workflow_dispatch', 'inputs', inputName];
    const type = d.type ?? 'string';
    if (type === 'choice' && !d.options)
      report(pos.ofKey(ip.slice(0, -1), inputName), `input "${inputName}" is a choice: give its options`);
    if (type !== 'choice' && d.options)
      report(pos.ofKey(ip, 'options'), `options are only for inputs of type choice`);
    const def = d.default === undefined ? null : String(d.default);
    if (def !== null) {
      const problem = inputProblem({ type, options: d.options ?? null }, def);
      if (problem) report(pos.of([...ip, 'default']), `default of input "${inputName}" ${problem}`);
    }
    return {
      name: inputName,
      type,
      description: d.description ?? null,
      required: d.required ?? false,
      default: def,
      options: d.options ?? null,
    };
  });
  const byVariable = new Map<string, string>();
  for (const i of inputs) {
    const other = byVariable.get(inputVariable(i.name));
    if (other)
      report(
        pos.ofKey(['on', 'workflow_dispatch', 'inputs'], i.name),
        `inputs "${other}" and "${i.name}" would both be ${inputVariable(i.name)} in steps; rename one`,
      );
    byVariable.set(inputVariable(i.name), i.name);
  }
  const secretScopes: Record<string, SecretScope> = {};
  for (const [secret, scope] of Object.entries(data.secrets ?? {})) {
    secretScopes[secret] = {
      events: scope.events ?? null,
      branches: globs(scope.branches, ['secrets', secret, 'branches'], true),
    };
  }
  try {
    parseGlob(data.repository);
  } catch (err) {
    if (!(err instanceof GlobSyntaxError)) throw err;
    report(
      pos.inString(['repository'], err.offset),
      `bad repository pattern "${data.repository}": ${err.message}`,
    );
  }
  if (data['clone-url'] !== undefined) checkRefs(data['clone-url'], ['clone-url']);

  // Jobs
  const workflowEnvNames = new Set(Object.keys(data.env ?? {}));
  const jobIds = Object.keys(data.jobs);
  const artifactOwners = new Map<string, string>();
  const list2 = <T>(value: T | T[] | undefined): T[] | null =>
    value === undefined ? null : Array.isArray(value) ? value : [value];
  if (jobIds.length === 0) report(pos.of(['jobs']), 'jobs is empty; add at least one job with steps');
  const jobs: JobDef[] = [];
  for (const jobId of jobIds) {
    const j = data.jobs[jobId]!;
    const jp: Path = ['jobs', jobId];
    const needs = list(j.needs) ?? [];
    needs.forEach((n, i) => {
      const np = Array.isArray(j.needs) ? [...jp, 'needs', i] : [...jp, 'needs'];
      if (n === jobId) report(pos.of(np), `job "${jobId}" needs itself`);
      else if (!(n in data.jobs))
        report(pos.of(np), `job "${jobId}" needs "${n}", which is not a job in this file`);
    });
    for (const [key, what] of UNSUPPORTED_JOB_KEYS) {
      // A reusable workflow call is one problem, whatever it passes along.
      if (j.uses !== undefined && (key === 'with' || key === 'secrets')) continue;
      if (j[key] !== undefined) report(pos.ofKey(jp, key), `not supported: ${what}`);
    }
    if (j.steps === undefined) {
      if (j.uses === undefined)
        report(pos.of(jp), `job "${jobId}" has no steps; add "steps:" with at least one run step`);
      continue;
    }
    if (j.steps.length === 0)
      report(pos.of([...jp, 'steps']), `job "${jobId}" has no steps; add at least one run step`);
    const jobEnvNames = new Set([...workflowEnvNames, ...Object.keys(j.env ?? {})]);
    const strategy = compileStrategy(j.strategy, [...jp, 'strategy']);
    const matrixKeys = strategy ? [...new Set(strategy.combinations.flatMap((c) => Object.keys(c)))] : null;
    const names = (
      stepIds: ReadonlySet<string> | null,
      envScope: ReadonlySet<string> | null,
    ): Place['names'] =>
      expressions.names({
        ...(envScope ? { env: expressions.envNames(envScope, stepIds !== null) } : {}),
        needs: (n) =>
          needs.includes(n)
            ? null
            : `needs.${n}: job "${n}" is not in the needs of "${jobId}"${needs.length ? ` (${needs.join(', ')})` : ''}; add it to needs:`,
        matrix: (n) =>
          matrixKeys === null
            ? `matrix.${n}: job "${jobId}" has no strategy.matrix`
            : matrixKeys.includes(n) || strategy!.combinations.length === 0
              ? null
              : `matrix.${n}: the matrix of "${jobId}" has no key "${n}" (it has ${matrixKeys.join(', ')})`,
        ...(stepIds
          ? {
              steps: (n: string) =>
                stepIds.has(n) ? null : `steps.${n}: no step before this one has id: ${n}`,
            }
          : {}),
      });
    const jobNames = names(null, null);

    // The if: gate the lifecycle applies, and what the worker evaluates on top of it.
    let gate: JobDef['if'] = 'success';
    let condition: string | null = null;
    if (j.if !== undefined) {
      const text = typeof j.if === 'boolean' ? String(j.if) : j.if;
      const simple = /^\s*(?:\$\{\{\s*)?(success|failure|always)\(\s*\)(?:\s*\}\})?\s*$/i.exec(text);
      if (simple) gate = simple[1]!.toLowerCase() as JobDef['if'];
      else {
        const parsed = expressions.condition(text, [...jp, 'if'], place("a job's if:", jobNames));
        if (parsed) {
          gate = usesStatusFunction(parsed.expr) ? 'always' : 'success';
          condition = text;
        }
      }
    }
    const title = j.name ?? null;
    const titleOk =
      title !== null && expressions.template(title, [...jp, 'name'], place("a job's name", jobNames));
    const jobTimeout = j['timeout-minutes'];
    const jobContinue = j['continue-on-error'];
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
    const runsOnOk = runsOnWritten.every((l, i) =>
      expressions.template(l, runsOnPath(i), place("a job's runs-on", jobNames)),
    );
    const timeoutOk =
      typeof jobTimeout !== 'string' ||
      expressions.template(
        jobTimeout,
        [...jp, 'timeout-minutes'],
        place("a job's timeout-minutes", jobNames),
      );
    const continueOk =
      typeof jobContinue !== 'string' ||
      expressions.template(
        jobContinue,
        [...jp, 'continue-on-error'],
        place("a job's continue-on-error", jobNames),
      );
    const defaultsRun = { ...data.defaults?.run, ...j.defaults?.run };
    const stepIds = new Set<string>();
    const steps: StepDef[] = j.steps.map((s, i) => {
      const sp: Path = [...jp, 'steps', i];
      const stepNames = names(new Set(stepIds), new Set([...jobEnvNames, ...Object.keys(s.env ?? {})]));
      if (s.id !== undefined) {
        if (stepIds.has(s.id))
          report(pos.of([...sp, 'id']), `step id "${s.id}" is used twice in job "${jobId}"`);
        stepIds.add(s.id);
      }
      const run = s.run ?? '';
      if (s.run === undefined && s.uses === undefined)
        report(
          pos.of(sp),
          `missing required key "run" in ${jobId}'s step ${i + 1}: the script the step runs (or uses: for an action)`,
        );
      if (s.run !== undefined && s.uses !== undefined)
        report(pos.ofKey(sp, 'uses'), 'a step has either run: or uses:, not both');
      if (s.with !== undefined && s.uses === undefined)
        report(pos.ofKey(sp, 'with'), 'with: gives inputs to an action: it goes with uses:');
      if (s.uses !== undefined) {
        const ref = parseActionRef(s.uses);
        if ('problem' in ref) report(pos.of([...sp, 'uses']), ref.problem);
        else if (ref.kind === 'docker') report(pos.of([...sp, 'uses']), `uses: ${DOCKER_ACTION_PROBLEM}`);
      }
      const withInputs: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.with ?? {})) {
        withInputs[k] = v === null ? '' : String(v);
        if (typeof v === 'string' && hasExpression(v))
          expressions.template(v, [...sp, 'with', k], place("a step's with:", stepNames));
      }
      const shellName = s.shell ?? defaultsRun.shell;
      const shell = shellName === undefined ? null : shellCommand(shellName);
      const stepPlace = (where: PlaceName) => place(where, stepNames);
      if (s.name !== undefined) expressions.template(s.name, [...sp, 'name'], stepPlace("a step's name"));
      const stepIf = s.if === undefined ? null : typeof s.if === 'boolean' ? String(s.if) : s.if;
      if (stepIf !== null) expressions.condition(stepIf, [...sp, 'if'], stepPlace("a step's if:"));
      const timeout = s['timeout-minutes'];
      if (typeof timeout === 'string')
        expressions.template(timeout, [...sp, 'timeout-minutes'], stepPlace("a step's timeout-minutes"));
      const cont = s['continue-on-error'];
      if (typeof cont === 'string')
        expressions.template(cont, [...sp, 'continue-on-error'], stepPlace("a step's continue-on-error"));
      let script: string | undefined;
      let exprs: StepDef['expressions'];
      if (hasExpression(run)) {
        const rewritten = expressions.run(run, [...sp, 'run'], stepPlace("a step's run"));
        if (rewritten && !isPosixShell(shell)) {
          report(
            pos.inString([...sp, 'run'], run.indexOf('${{')),
            `\${{ }} in a ${shellName} script cannot be passed as data; set the value in env: and read it from the environment`,
          );
        } else if (rewritten) {
          script = rewritten.script;
          exprs = rewritten.expressions.map((e) => ({ variable: e.variable, source: e.source }));
        }
      }
      const workingDirectory = s['working-directory'] ?? defaultsRun['working-directory'] ?? null;
      if (workingDirectory !== null && hasExpression(workingDirectory))
        report(
          pos.of([...sp, 'working-directory']),
          'working-directory cannot use ${{ }}: paths come from the pipeline file only',
        );
      return {
        ...(s.id !== undefined ? { id: s.id } : {}),
        name: s.name ?? (s.uses !== undefined ? s.uses.trim() : run.split('\n')[0]!.slice(0, 80)),
        ...(s.uses !== undefined ? { uses: s.uses.trim(), with: withInputs } : {}),
        ...(s.name !== undefined && hasExpression(s.name) ? { nameTemplate: true } : {}),
        run: run,
        ...(script !== undefined ? { script, expressions: exprs! } : {}),
        ...(stepIf !== null ? { if: stepIf } : {}),
        env: envMap(s.env, [...sp, 'env'], stepPlace("a step's env")),
        timeoutMinutes: timeout ?? null,
        continueOnError: cont ?? false,
        workingDirectory,
        shell,
      };
    });
    const outputs: Record<string, string> = {};
    for (const [k, v] of Object.entries(j.outputs ?? {})) {
      outputs[k] = v;
      expressions.template(v, [...jp, 'outputs', k], place("a job's outputs", names(stepIds, jobEnvNames)));
    }
    for (const wd of [j['working-directory'], ...steps.map((s) => s.workingDirectory)]) {
      if (wd && (wd.startsWith('/') || wd.split('/').includes('..'))) {
        report(
          pos.of([...jp]),
          `working-directory "${wd}" must stay inside the checkout (relative, without "..")`,
        );
      }
    }
    const cp: Path = [...jp, 'cache'];
    const caches: CacheDef[] = (list2(j.cache) ?? []).map((c, i) => {
      const at: Path = Array.isArray(j.cache) ? [...cp, i] : cp;
      const { rest, problems } = scanCacheKey(c.key);
      for (const p of problems) report(pos.inString([...at, 'key'], p.offset), p.message);
      checkRefs(rest, [...at, 'key']);
      const paths = list(c.paths)!;
      paths.forEach((p, k) =>
        checkPath(p, Array.isArray(c.paths) ? [...at, 'paths', k] : [...at, 'paths'], true),
      );
      const restoreKeys = list(c['restore-keys']) ?? [];
      restoreKeys.forEach((r, k) => {
        const rp = Array.isArray(c['restore-keys']) ? [...at, 'restore-keys', k] : [...at, 'restore-keys'];
        const scanned = scanCacheKey(r);
        for (const p of scanned.problems) report(pos.inString(rp, p.offset), p.message);
        checkRefs(scanned.rest, rp);
      });
      return { key: c.key, paths, restoreKeys };
    });
    const ap: Path = [...jp, 'artifacts'];
    const artifacts: ArtifactDef[] = (list2(j.artifacts) ?? []).map((a, i) => {
      const at: Path = Array.isArray(j.artifacts) ? [...ap, i] : ap;
      const paths = list(a.paths)!;
      paths.forEach((p, k) => {
        const pp = Array.isArray(a.paths) ? [...at, 'paths', k] : [...at, 'paths'];
        checkPath(p, pp, false);
        try {
          parseGlob(p);
        } catch (err) {
          if (!(err instanceof GlobSyntaxError)) throw err;
          report(
            pos.inString(pp, err.offset + (p.startsWith('!') ? 1 : 0)),
            `bad pattern "${p}": ${err.message}`,
          );
        }
      });
      const earlier = artifactOwners.get(a.name);
      if (earlier)
        report(
          pos.of([...at, 'name']),
          `artifact "${a.name}" is also made by job "${earlier}"; names are unique in a pipeline`,
        );
      else artifactOwners.set(a.name, jobId);
      return { name: a.name, paths };
    });
    const env = envMap(j.env, [...jp, 'env'], place("a job's env", names(null, workflowEnvNames)));
    const services = compileServices(j.services, [...jp, 'services'], {
      report,
      of: (p) => pos.of(p),
      ofKey: (p, k) => pos.ofKey(p, k),
      inString: (p, o) => pos.inString(p, o),
      env: (v, p) => envMap(v, p, place("a job's env", names(null, jobEnvNames))),
    });
    const variants = strategy ? strategy.combinations : [null];
    const ids = new Set<string>();
    variants.forEach((values, index) => {
      const strategyContext: { [k: string]: Value } = {
        'fail-fast': strategy?.failFast ?? true,
        'job-index': index,
        'job-total': variants.length,
        'max-parallel': strategy?.maxParallel ?? variants.length,
      };
      const ctx = { contexts: { matrix: values ?? {}, strategy: strategyContext } };
      const evaluated = (value: string | number | boolean, path: Path): Value => {
        if (typeof value !== 'string') return value;
        try {
          return evaluateTemplate(value, ctx);
        } catch (err) {
          reportOnce(pos.of(path), (err as Error).message);
          return null;
        }
      };
      let timeoutMinutes: number | null = null;
      if (jobTimeout !== undefined && timeoutOk) {
        const v = toNumber(evaluated(jobTimeout, [...jp, 'timeout-minutes']));
        if (v > 0 && v <= 10_080) timeoutMinutes = v;
        else
          reportOnce(
            pos.of([...jp, 'timeout-minutes']),
            `timeout-minutes ${String(jobTimeout)} is ${v}, not a number of minutes above 0 and at most 10080`,
          );
      }
      const continueOnError =
        jobContinue !== undefined && continueOk
          ? toBoolean(evaluated(jobContinue, [...jp, 'continue-on-error']))
          : false;
      const runsOn = runsOnOk
        ? runsOnWritten.flatMap((l, i) => {
            const v = evaluated(l, runsOnPath(i));
            return (Array.isArray(v) ? v.map(toText) : [toText(v)])
              .map((x) => x.trim().toLowerCase())
              .filter(Boolean);
          })
        : [];
      // A name that only uses matrix and strategy is shown rendered; GitHub appends the values otherwise.
      let shown = title;
      if (title !== null && titleOk && hasExpression(title)) shown = renderTitle(title, ctx);
      if (values && !(title !== null && /\bmatrix\b/.test(title)))
        shown = `${title ?? jobId} (${describeCombination(values)})`;
      let id = jobId;
      if (values) {
        id = combinationId(jobId, values);
        if (id === jobId || ids.has(id) || (id !== jobId && id in data.jobs)) id = `${jobId}-${index + 1}`;
        ids.add(id);
      }
      jobs.push({
        name: id,
        ...(shown !== null ? { title: shown } : {}),
        ...(values
          ? {
              group: jobId,
              matrix: {
                values,
                index,
                total: variants.length,
                failFast: strategy!.failFast,
                maxParallel: strategy!.maxParallel,
              },
            }
          : {}),
        needs,
        if: gate,
        ...(condition !== null ? { condition } : {}),
        env,
        ...(runsOn.length > 0 ? { runsOn } : {}),
        ...(j.outputs !== undefined ? { outputs } : {}),
        timeoutMinutes,
        continueOnError,
        workingDirectory: j['working-directory'] ?? null,
        network: j.network ?? data.network ?? 'default',
        caches,
        artifacts,
        downloadArtifacts: [],
        ...(services.length > 0 ? { services } : {}),
        steps,
      });
    });
  }
  // Cycles are found on the jobs as written; then needs of a matrix job mean all of its combinations.
  const written = jobIds.map((id) => ({ name: id, needs: list(data.jobs[id]!.needs) ?? [] }));
  for (const cycle of findCycles(written)) {
    report(
      pos.of(['jobs', cycle[0]!, 'needs']),
      `jobs form a cycle through needs: ${[...cycle, cycle[0]].join(' → ')}`,
    );
  }
  const members = new Map<string, string[]>();
  for (const job of jobs)
    members.set(job.group ?? job.name, [...(members.get(job.group ?? job.name) ?? []), job.name]);
  for (const job of jobs) job.needs = job.needs.flatMap((n) => members.get(n) ?? [n]);
  // Which artifacts each job unpacks: only ones made by jobs it needs (directly or not), which have
  // finished by the time it starts.
  const byId = new Map(jobs.map((j) => [j.name, j]));
  const upstream = (name: string, seen = new Set<string>()): Set<string> => {
    for (const n of byId.get(name)?.needs ?? [])
      if (!seen.has(n) && byId.has(n)) {
        seen.add(n);
        upstream(n, seen);
      }
    return seen;
  };
  for (const job of jobs) {
    const written = job.group ?? job.name;
    const wanted = data.jobs[written]!['download-artifacts'];
    const before = upstream(job.name);
    const available = jobs.filter((j) => before.has(j.name)).flatMap((j) => j.artifacts.map((a) => a.name));
    if (wanted === undefined || wanted === true) {
      const direct = new Set(job.needs);
      job.downloadArtifacts = jobs
        .filter((j) => direct.has(j.name))
        .flatMap((j) => j.artifacts.map((a) => a.name));
    } else if (wanted !== false) {
      wanted.forEach((n, i) => {
        const owner = artifactOwners.get(n);
        const at = pos.of(['jobs', written, 'download-artifacts', i]);
        if (!owner) reportOnce(at, `no job makes an artifact "${n}"`);
        else if (!available.includes(n))
          reportOnce(
            at,
            `artifact "${n}" is made by job "${owner}", which job "${written}" does not need (add it to needs)`,
          );
      });
      job.downloadArtifacts = wanted.filter((n) => available.includes(n));
    }
  }

  // Notify
  const notify: NotifyDef[] = (data.notify ?? []).map((n, i) => {
    const np: Path = ['notify', i];
    checkRefs(n.url, [...np, 'url']);
    const secrets = Array.isArray(n.secret) ? n.secret : [n.secret];
    secrets.forEach((s, k) => {
      const sp = Array.isArray(n.secret) ? [...np, 'secret', k] : [...np, 'secret'];
      checkRefs(s, sp);
      if (findReferences(s).length === 0) {
        report(
          pos.of(sp),
          'write the secret as ${{ env.NAME }} or ${{ secrets.NAME }}; literal secrets do not belong in pipeline files',
        );
      }
    });
    return {
      url: n.url,
      secrets,
      events: (n.events as OutboundEventType[] | undefined) ?? DEFAULT_EVENTS,
      branches: globs(n.branches, [...np, 'branches'], true),
    };
  });

  // GitHub's short form `concurrency: <group>`; a group with ${{ }} is evaluated when a build is created.
  const concurrency = typeof data.concurrency === 'string' ? { group: data.concurrency } : data.concurrency;
  if (concurrency?.group !== undefined && hasExpression(concurrency.group)) {
    const path = typeof data.concurrency === 'string' ? ['concurrency'] : ['concurrency', 'group'];
    expressions.template(concurrency.group, path, place('a concurrency group', expressions.names({})));
  }

  return {
    pipeline: {
      name,
      ...(data.name !== undefined && data.name !== name ? { title: data.name } : {}),
      file,
      repository: data.repository,
      cloneUrl: data['clone-url'] ?? null,
      forge: data.forge ?? null,
      trigger,
      pullRequest,
      schedules,
      inputs,
      forks: data['pull-requests']?.forks ?? null,
      secretScopes,
      env: envMap(
        data.env,
        ['env'],
        place('workflow env', expressions.names({ env: expressions.envNames(new Set(), false) })),
      ),
      jobs,
      notify,
      concurrency:
        concurrency &&
        (concurrency.group !== undefined ||
          concurrency['cancel-in-progress'] !== undefined ||
          concurrency.max === undefined)
          ? {
              group: concurrency.group ?? null,
              cancelInProgress: concurrency['cancel-in-progress'] ?? false,
            }
          : null,
      maxJobs: concurrency?.max ?? null,
      commitStatus: data['commit-status']
        ? ((typeof data['commit-status'] === 'object' ? data['commit-status'].context : undefined) ??
          `pushci/${name}`)
        : null,
    },
    diagnostics,
  };
}

/** A branch name git accepts (it reaches `git ls-remote` as data, never as an option). */
function isBranchName(name: string): boolean {
  return (
    /^[A-Za-z0-9._/-]{1,255}$/.test(name) &&
    !name.startsWith('-') &&
    !/\.\.|\/\/|^\/|\/$|\.lock$|^\.|\/\./.test(name)
  );
}

/** Each elementary cycle reported once, starting at its first job in file order. */
function findCycles(jobs: ReadonlyArray<{ name: string; needs: string[] }>): string[][] {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[][] = [];
  const stack: string[] = [];
  const visit = (name: string) => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const n of byName.get(name)?.needs ?? []) {
      if (!byName.has(n) || n === name) continue;
      if (state.get(n) === 'visiting') cycles.push(stack.slice(stack.indexOf(n)));
      else if (!state.has(n)) visit(n);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const j of jobs) if (!state.has(j.name)) visit(j.name);
  return cycles;
}

/** The path of the first string holding `${{` inside a matrix, or null. */
function findExpressionPath(value: unknown, path: PropertyKey[] = []): PropertyKey[] | null {
  if (typeof value === 'string') return value.includes('${{') ? path : null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const p = findExpressionPath(v, [...path, i]);
      if (p) return p;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = findExpressionPath(v, [...path, k]);
      if (p) return p;
    }
  }
  return null;
}

/** A job name rendered with the matrix; a name that needs runtime contexts is shown as written. */
function renderTitle(title: string, ctx: EvalContext): string {
  try {
    return toText(evaluateTemplate(title, ctx)).replace(/\s+/g, ' ').trim() || title;
  } catch {
    return title;
  }
}
