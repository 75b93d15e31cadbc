import { basename, extname } from 'node:path';
import type { Diagnostic } from './diagnostic.ts';
import { SECRET_ENV_PREFIX, findReferences, variableFor } from './expressions.ts';
import { settingEnvProblem } from './settings-env.ts';
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
import type { PipelineFile } from './schema.ts';
import type { Positions } from './positions.ts';
import type { OutboundEventType } from '../model.ts';

type Path = PropertyKey[];

const DEFAULT_EVENTS: OutboundEventType[] = ['build.queued', 'build.started', 'build.completed'];

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

  const envMap = (value: Record<string, string | number | boolean> | undefined, path: Path) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value ?? {})) {
      out[k] = String(v);
      checkRefs(out[k], [...path, k]);
    }
    return out;
  };

  const name = data.name ?? basename(file, extname(file));
  if (data.name === undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
    report(
      { line: 1, col: 1 },
      `file name "${name}" cannot be a pipeline name; add a "name:" with letters, digits, ".", "_" and "-"`,
    );
  }

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
  const jobIds = Object.keys(data.jobs);
  const artifactOwners = new Map<string, string>();
  const list2 = <T>(value: T | T[] | undefined): T[] | null =>
    value === undefined ? null : Array.isArray(value) ? value : [value];
  if (jobIds.length === 0) report(pos.of(['jobs']), 'jobs is empty; add at least one job with steps');
  const jobs: JobDef[] = jobIds.map((id) => {
    const j = data.jobs[id]!;
    const jp: Path = ['jobs', id];
    const needs = list(j.needs) ?? [];
    needs.forEach((n, i) => {
      const np = Array.isArray(j.needs) ? [...jp, 'needs', i] : [...jp, 'needs'];
      if (n === id) report(pos.of(np), `job "${id}" needs itself`);
      else if (!(n in data.jobs))
        report(pos.of(np), `job "${id}" needs "${n}", which is not a job in this file`);
    });
    const steps: StepDef[] = j.steps.map((s, i) => {
      const sp: Path = [...jp, 'steps', i];
      const refs = findReferences(s.run);
      if (refs.length > 0) {
        report(
          pos.inString([...sp, 'run'], refs[0]!.offset),
          '${{ }} is not expanded in run scripts (it would splice text into shell code); pass the value through env: and use "$NAME"',
        );
      }
      return {
        name: s.name ?? s.run.split('\n')[0]!.slice(0, 80),
        run: s.run,
        env: envMap(s.env, [...sp, 'env']),
        timeoutMinutes: s['timeout-minutes'] ?? null,
        continueOnError: s['continue-on-error'] ?? false,
        workingDirectory: s['working-directory'] ?? null,
        shell: s.shell ?? null,
      };
    });
    for (const wd of [j['working-directory'], ...j.steps.map((s) => s['working-directory'])]) {
      if (wd !== undefined && (wd.startsWith('/') || wd.split('/').includes('..'))) {
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
      else artifactOwners.set(a.name, id);
      return { name: a.name, paths };
    });
    return {
      name: id,
      needs,
      if: (j.if ?? 'success()').slice(0, -2) as JobDef['if'],
      env: envMap(j.env, [...jp, 'env']),
      timeoutMinutes: j['timeout-minutes'] ?? null,
      continueOnError: j['continue-on-error'] ?? false,
      workingDirectory: j['working-directory'] ?? null,
      network: j.network ?? data.network ?? 'default',
      caches,
      artifacts,
      downloadArtifacts: [],
      steps,
    };
  });
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
    const wanted = data.jobs[job.name]!['download-artifacts'];
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
        const at = pos.of(['jobs', job.name, 'download-artifacts', i]);
        if (!owner) report(at, `no job makes an artifact "${n}"`);
        else if (!available.includes(n))
          report(
            at,
            `artifact "${n}" is made by job "${owner}", which job "${job.name}" does not need (add it to needs)`,
          );
      });
      job.downloadArtifacts = wanted.filter((n) => available.includes(n));
    }
  }
  for (const cycle of findCycles(jobs)) {
    report(
      pos.of(['jobs', cycle[0]!, 'needs']),
      `jobs form a cycle through needs: ${[...cycle, cycle[0]].join(' → ')}`,
    );
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

  return {
    pipeline: {
      name,
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
      env: envMap(data.env, ['env']),
      jobs,
      notify,
      concurrency:
        data.concurrency &&
        (data.concurrency.group !== undefined ||
          data.concurrency['cancel-in-progress'] !== undefined ||
          data.concurrency.max === undefined)
          ? {
              group: data.concurrency.group ?? null,
              cancelInProgress: data.concurrency['cancel-in-progress'] ?? false,
            }
          : null,
      maxJobs: data.concurrency?.max ?? null,
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
function findCycles(jobs: readonly JobDef[]): string[][] {
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
