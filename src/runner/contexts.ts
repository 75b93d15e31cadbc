import { arch, hostname, platform } from 'node:os';
import type { JobStatus } from '../model.ts';
import { fromPlain, type Value } from '../pipelines/expr/values.ts';
import { SECRET_ENV_PREFIX } from '../pipelines/expressions.ts';
import { VAR_ENV_PREFIX } from '../pipelines/expression-checker.ts';
import type { JobDef } from '../pipelines/pipeline.ts';
import { settingEnvProblem } from '../pipelines/settings-env.ts';
import type { BuildRecord } from '../queue/build-record.ts';

type Obj = { [k: string]: Value };

/** A job status as GitHub's needs.<id>.result and steps.<id>.outcome spell it. */
export function resultName(status: JobStatus | undefined): string {
  switch (status) {
    case 'success':
      return 'success';
    case 'canceled':
      return 'cancelled';
    case 'skipped':
      return 'skipped';
    case 'failure':
    case 'error':
      return 'failure';
    default:
      return '';
  }
}

/** `secrets` from PUSHCI_SECRET_<NAME>, `vars` from PUSHCI_VAR_<NAME>, `env`'s base from the rest. */
export function serverContexts(serverEnv: Readonly<Record<string, string>>): {
  secrets: Obj;
  vars: Obj;
  env: Obj;
} {
  const secrets: Obj = {};
  const vars: Obj = {};
  const env: Obj = {};
  for (const [k, v] of Object.entries(serverEnv)) {
    if (k.startsWith(SECRET_ENV_PREFIX)) secrets[k.slice(SECRET_ENV_PREFIX.length)] = v;
    else if (k.startsWith(VAR_ENV_PREFIX)) vars[k.slice(VAR_ENV_PREFIX.length)] = v;
    else if (settingEnvProblem(k) === null) env[k] = v;
  }
  return { secrets, vars, env };
}

/**
 * `needs`: the result of each job this one needs, by the name written in the file; a matrix job's
 * result sums up its combinations (failure if one failed, else cancelled, else skipped if all were).
 */
export function needsContext(record: BuildRecord, job: JobDef): Obj {
  const groups = new Map<string, JobDef[]>();
  for (const n of job.needs) {
    const def = record.def.jobs.find((d) => d.name === n);
    const key = def?.group ?? n;
    groups.set(key, [...(groups.get(key) ?? []), ...(def ? [def] : [])]);
  }
  const out: Obj = {};
  for (const [key, defs] of groups) {
    const results = defs.map((d) => {
      const status = record.jobs.get(d.name)?.status;
      return status === 'failure' && d.continueOnError ? 'success' : resultName(status);
    });
    const result = results.includes('failure')
      ? 'failure'
      : results.includes('cancelled')
        ? 'cancelled'
        : results.length > 0 && results.every((r) => r === 'skipped')
          ? 'skipped'
          : results.every((r) => r === 'success' || r === 'skipped')
            ? 'success'
            : '';
    const outputs: Obj = {};
    for (const d of defs) Object.assign(outputs, record.jobs.get(d.name)?.outputs ?? {});
    out[key] = { result, outputs };
  }
  return out;
}

/** `matrix` and `strategy` of a job (empty without a matrix). */
export function matrixContexts(job: JobDef): { matrix: Obj; strategy: Obj } {
  const m = job.matrix;
  if (!m)
    return { matrix: {}, strategy: { 'fail-fast': true, 'job-index': 0, 'job-total': 1, 'max-parallel': 1 } };
  return {
    matrix: fromPlain(m.values) as Obj,
    strategy: {
      'fail-fast': m.failFast,
      'job-index': m.index,
      'job-total': m.total,
      'max-parallel': m.maxParallel ?? m.total,
    },
  };
}

/** `runner`: this worker. */
export function runnerContext(temp: string): Obj {
  const os = platform() === 'darwin' ? 'macOS' : platform() === 'win32' ? 'Windows' : 'Linux';
  const a = arch();
  return {
    name: hostname(),
    os,
    arch: a === 'x64' ? 'X64' : a === 'arm64' ? 'ARM64' : a === 'arm' ? 'ARM' : a.toUpperCase(),
    temp,
    tool_cache: temp,
    debug: '',
    environment: 'self-hosted',
  };
}
