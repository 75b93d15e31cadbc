import { PULL_REQUEST_ACTIONS } from '../core/event.ts';
import type { CompileContext, Path } from './compile-context.ts';
import { cronProblem } from './cron.ts';
import { inputProblem, inputVariable } from './inputs.ts';
import type { InputDef, Pipeline, PullRequestTrigger, ScheduleDef, SecretScope } from './pipeline.ts';
import type { PipelineFile } from './schema.ts';
import { UNSUPPORTED_EVENTS, unsupportedEventMessage } from './unsupported-events.ts';

type On = Exclude<PipelineFile['on'], string | string[]>;

/** What starts a pipeline (`on:`): pushes, pull requests, schedules and manual runs with their inputs. */
export function compileTriggers(
  cx: CompileContext,
  data: PipelineFile,
): Pick<Pipeline, 'trigger' | 'pullRequest' | 'schedules' | 'inputs'> {
  // `on: push`, `on: [push, pull_request]`, or a map of events with their filters.
  const on =
    typeof data.on === 'string'
      ? { [data.on]: null }
      : Array.isArray(data.on)
        ? Object.fromEntries(data.on.map((k) => [k, null]))
        : data.on;
  // GitHub's events pushci does not build on: one line each, where the file names it.
  const named: Array<[string, Path]> =
    typeof data.on === 'string'
      ? [[data.on, ['on']]]
      : Array.isArray(data.on)
        ? data.on.map((e, i): [string, Path] => [e, ['on', i]])
        : Object.keys(data.on).map((e): [string, Path] => [e, ['on', e]]);
  for (const [event, path] of named)
    if (Object.hasOwn(UNSUPPORTED_EVENTS, event))
      cx.report(
        typeof path.at(-1) === 'string' && path.length > 1 ? cx.pos.ofKey(['on'], event) : cx.pos.of(path),
        unsupportedEventMessage(event),
      );
  return {
    trigger: 'push' in on ? pushTrigger(cx, on.push ?? {}) : null,
    pullRequest: 'pull_request' in on ? pullRequestTrigger(cx, on.pull_request ?? {}) : null,
    schedules: compileSchedules(cx, data, ('schedule' in on ? on.schedule : undefined) ?? []),
    inputs: compileInputs(cx, ('workflow_dispatch' in on ? on.workflow_dispatch?.inputs : undefined) ?? {}),
  };
}

/** `on.push`: branch, tag and path filters. */
function pushTrigger(cx: CompileContext, push: NonNullable<On['push']>): Pipeline['trigger'] {
  const pushPath: Path = ['on', 'push'];
  exclusive(cx, push, pushPath, [
    ['branches', 'branches-ignore'],
    ['tags', 'tags-ignore'],
    ['paths', 'paths-ignore'],
  ]);
  return {
    branches: cx.globs(push.branches, [...pushPath, 'branches'], true),
    branchesIgnore: cx.globs(push['branches-ignore'], [...pushPath, 'branches-ignore'], false),
    tags: cx.globs(push.tags, [...pushPath, 'tags'], true),
    tagsIgnore: cx.globs(push['tags-ignore'], [...pushPath, 'tags-ignore'], false),
    paths: cx.globs(push.paths, [...pushPath, 'paths'], true),
    pathsIgnore: cx.globs(push['paths-ignore'], [...pushPath, 'paths-ignore'], false),
  };
}

/** `on.pull_request`: branch and path filters, and which actions of a pull request build. */
function pullRequestTrigger(cx: CompileContext, pr: NonNullable<On['pull_request']>): PullRequestTrigger {
  const prPath: Path = ['on', 'pull_request'];
  exclusive(cx, pr, prPath, [
    ['branches', 'branches-ignore'],
    ['paths', 'paths-ignore'],
  ]);
  return {
    branches: cx.globs(pr.branches, [...prPath, 'branches'], true),
    branchesIgnore: cx.globs(pr['branches-ignore'], [...prPath, 'branches-ignore'], false),
    types: pr.types ? [...new Set(pr.types)] : [...PULL_REQUEST_ACTIONS],
    paths: cx.globs(pr.paths, [...prPath, 'paths'], true),
    pathsIgnore: cx.globs(pr['paths-ignore'], [...prPath, 'paths-ignore'], false),
  };
}

/** `on.schedule`: each cron checked; a schedule builds one named repository. */
function compileSchedules(
  cx: CompileContext,
  data: PipelineFile,
  written: NonNullable<On['schedule']>,
): ScheduleDef[] {
  const schedules: ScheduleDef[] = written.map((sch, i) => {
    const problem = cronProblem(sch.cron);
    if (problem) cx.report(cx.pos.of(['on', 'schedule', i, 'cron']), `bad cron "${sch.cron}": ${problem}`);
    if (sch.branch !== undefined && !isBranchName(sch.branch))
      cx.report(cx.pos.of(['on', 'schedule', i, 'branch']), `"${sch.branch}" is not a valid branch name`);
    return { cron: sch.cron, branch: sch.branch ?? null, always: sch.always ?? false };
  });
  if (schedules.length > 0 && /[*?[{!]/.test(data.repository))
    cx.report(
      cx.pos.ofKey(['on'], 'schedule'),
      `a schedule builds one repository: "repository" must name it, not a pattern ("${data.repository}")`,
    );
  return schedules;
}

/** `on.workflow_dispatch.inputs`: types, options and defaults agree; no two inputs share a variable. */
function compileInputs(
  cx: CompileContext,
  written: NonNullable<NonNullable<On['workflow_dispatch']>['inputs']>,
): InputDef[] {
  const inputs: InputDef[] = Object.entries(written).map(([inputName, d]) => {
    const ip: Path = ['on', 'workflow_dispatch', 'inputs', inputName];
    const type = d.type ?? 'string';
    if (type === 'choice' && !d.options)
      cx.report(
        cx.pos.ofKey(ip.slice(0, -1), inputName),
        `input "${inputName}" is a choice: give its options`,
      );
    if (type !== 'choice' && d.options)
      cx.report(cx.pos.ofKey(ip, 'options'), `options are only for inputs of type choice`);
    const def = d.default === undefined ? null : String(d.default);
    if (def !== null) {
      const problem = inputProblem({ type, options: d.options ?? null }, def);
      if (problem) cx.report(cx.pos.of([...ip, 'default']), `default of input "${inputName}" ${problem}`);
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
      cx.report(
        cx.pos.ofKey(['on', 'workflow_dispatch', 'inputs'], i.name),
        `inputs "${other}" and "${i.name}" would both be ${inputVariable(i.name)} in steps; rename one`,
      );
    byVariable.set(inputVariable(i.name), i.name);
  }
  return inputs;
}

/** `secrets:`: the events and branches whose builds get each secret. */
export function compileSecretScopes(cx: CompileContext, data: PipelineFile): Record<string, SecretScope> {
  const secretScopes: Record<string, SecretScope> = {};
  for (const [secret, scope] of Object.entries(data.secrets ?? {})) {
    secretScopes[secret] = {
      events: scope.events ?? null,
      branches: cx.globs(scope.branches, ['secrets', secret, 'branches'], true),
    };
  }
  return secretScopes;
}

/** Pairs of filters of which at most one may be set (`branches` and `branches-ignore`). */
function exclusive(
  cx: CompileContext,
  obj: Record<string, unknown>,
  path: Path,
  pairs: ReadonlyArray<readonly [string, string]>,
): void {
  for (const [a, b] of pairs) {
    if (obj[a] !== undefined && obj[b] !== undefined)
      cx.report(cx.pos.ofKey(path, b), `"${a}" and "${b}" cannot both be set; use "${a}" with "!" patterns`);
  }
}

/** A branch name git accepts (it reaches `git ls-remote` as data, never as an option). */
function isBranchName(name: string): boolean {
  return (
    /^[A-Za-z0-9._/-]{1,255}$/.test(name) &&
    !name.startsWith('-') &&
    !/\.\.|\/\/|^\/|\/$|\.lock$|^\.|\/\./.test(name)
  );
}
