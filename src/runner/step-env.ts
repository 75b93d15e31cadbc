import type { BuildRecord } from '../queue/build-record.ts';
import type { EvalContext } from '../pipelines/expr/evaluate.ts';
import { renderTemplate } from '../pipelines/expr/template.ts';
import { inputVariable } from '../pipelines/inputs.ts';
import type { JobDef } from '../pipelines/pipeline.ts';

/** The only variables a step inherits from the worker: enough to find programs and a home, no secrets. */
const PASSTHROUGH = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR'];

/**
 * What every step of a job starts from, built from scratch: a few harmless worker variables and the
 * CI_* variables (values from the payload travel only here, never into a command line or a path).
 */
export function baseEnv(
  record: BuildRecord,
  job: JobDef,
  ctx: { workspace: string; serverEnv: Readonly<Record<string, string>> },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of PASSTHROUGH) {
    const v = ctx.serverEnv[k];
    if (v !== undefined) env[k] = v;
  }
  const m = record.meta;
  Object.assign(env, {
    CI: 'true',
    PUSHCI: 'true',
    CI_COMMIT_SHA: m.sha,
    CI_COMMIT_BEFORE_SHA: m.before,
    CI_COMMIT_REF: m.ref,
    CI_COMMIT_MESSAGE: m.message ?? '',
    CI_REPO: m.repository,
    CI_FORGE: m.forge,
    CI_PIPELINE_NAME: m.pipeline,
    CI_BUILD_ID: m.id,
    CI_BUILD_NUMBER: String(record.number),
    CI_PIPELINE_EVENT: m.event,
    CI_JOB_NAME: job.name,
    CI_WORKSPACE: ctx.workspace,
  });
  if (m.branch !== null) env.CI_COMMIT_BRANCH = m.branch;
  if (m.tag !== null) env.CI_COMMIT_TAG = m.tag;
  const pr = m.pull_request;
  if (pr) {
    env.CI_COMMIT_PULL_REQUEST = String(pr.number);
    env.CI_COMMIT_SOURCE_BRANCH = pr.source_branch;
    env.CI_COMMIT_TARGET_BRANCH = pr.target_branch;
    env.CI_COMMIT_PULL_REQUEST_FORK = String(pr.fork);
  }
  if (m.cron !== null) env.CI_PIPELINE_SCHEDULE = m.cron;
  // Inputs are data a person typed: they reach steps only as values, like everything from outside.
  for (const [name, value] of Object.entries(m.inputs ?? {})) env[inputVariable(name)] = value;
  return env;
}

/** One `env:` map with its `${{ }}` evaluated (ExpressionError when one cannot be). */
export function renderEnv(layer: Readonly<Record<string, string>>, ctx: EvalContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(layer)) out[k] = renderTemplate(v, ctx);
  return out;
}
