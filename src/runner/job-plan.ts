import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { JobResult } from '../builds/lifecycle.ts';
import { cloneUrlFor } from '../builds/clone-url.ts';
import { githubContext } from '../builds/github-context.ts';
import { UnresolvedReferenceError } from '../pipelines/expressions.ts';
import type { EvalContext } from '../pipelines/expr/evaluate.ts';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { evaluateCondition } from '../pipelines/expr/template.ts';
import type { Value } from '../pipelines/expr/values.ts';
import type { BuildRecord } from '../queue/build-record.ts';
import type { JobDirs, JobLimits, NetworkMode } from './backend.ts';
import { jobDirsIn } from './job-dirs.ts';
import { workspacesRoot } from './prepare-workspaces-root.ts';
import { matrixContexts, needsContext, runnerContext, serverContexts } from './contexts.ts';
import { environmentFor, fromFork } from './secret-access.ts';
import { baseEnv, renderEnv } from './step-env.ts';
import { inputsContext } from '../pipelines/inputs.ts';

/** What a job attempt runs with, worked out before anything is started for it. */
export interface JobPlan {
  job: BuildRecord['def']['jobs'][number];
  /** Build, job and attempt: the workspace's and the cgroup's name. */
  id: string;
  dirs: JobDirs;
  fork: boolean;
  /** The network the pipeline asked for; `network` is what the job gets (a fork never gets `host`). */
  asked: NetworkMode;
  network: NetworkMode;
  visible: ReturnType<typeof environmentFor>;
  limits: JobLimits;
  cloneUrl: string;
  /** Values masked in the job's log (grows with ::add-mask::). */
  secrets: Set<string>;
  server: ReturnType<typeof serverContexts>;
  contexts: { [name: string]: Value };
  jobEnv: Record<string, string>;
  base: ReturnType<typeof baseEnv>;
}

/**
 * The job's folders, network, limits, clone URL, expression contexts and environment; or how it ends
 * before it starts (no clone URL on this worker, fail-fast, a false `if:`, an expression error).
 */
export function planJob(
  config: Readonly<Config>,
  record: BuildRecord,
  jobName: string,
  attempt: number,
): JobPlan | { end: JobResult } {
  const job = record.def.jobs.find((j) => j.name === jobName)!;
  const secrets = new Set<string>();
  let cloneUrl: string;
  const id = `${record.meta.id}-${jobName}-${attempt}`;
  const root = join(workspacesRoot(config.dataDir), id);
  const dirs = jobDirsIn(root);
  const workspace = dirs.src;
  const fork = fromFork(record.meta);
  // Records stored before `network:` existed have none: the default. A fork's code never gets the
  // host's network (loopback: pushci's API and Redis).
  const asked: NetworkMode = job.network ?? 'default';
  const network: NetworkMode = fork && asked === 'host' ? 'default' : asked;
  const visible = environmentFor(record.def, record.meta, config.env);
  const limits: JobLimits = {
    processes: config.jobProcesses,
    memoryBytes: config.jobMemory,
    diskBytes: config.jobDisk,
    openFiles: config.jobOpenFiles,
  };
  try {
    cloneUrl = cloneUrlFor(record.def, record.meta.forge, record.meta.repository, config, secrets);
  } catch (err) {
    if (!(err instanceof UnresolvedReferenceError)) throw err;
    return {
      end: { status: 'error', exitCode: null, reason: `this worker cannot run the job: ${err.message}` },
    };
  }
  // Secrets this build may not read (a fork's pull request, a scope) are there but empty.
  const server = serverContexts(visible.env);
  // Every secret of this server is masked in this job's log, whichever expression reads it.
  for (const v of Object.values(serverContexts(config.env).secrets))
    if (typeof v === 'string' && v.length > 0) secrets.add(v);
  const steps: { [id: string]: Value } = {};
  const contexts: { [name: string]: Value } = {
    github: githubContext(record, jobName, workspace, attempt),
    secrets: server.secrets,
    vars: server.vars,
    inputs: inputsContext(record.def.inputs ?? [], record.meta.inputs ?? {}),
    needs: needsContext(record, job),
    ...matrixContexts(job),
    runner: runnerContext(dirs.tmp),
    job: { status: 'success' },
    steps,
    env: server.env,
  };
  const needStates = job.needs.map((n) => ({
    def: record.def.jobs.find((d) => d.name === n),
    status: record.jobs.get(n)?.status,
  }));
  const jobCtx: EvalContext = {
    contexts,
    status: {
      success: needStates.every(
        (n) => n.status === 'success' || (n.status === 'failure' && n.def?.continueOnError),
      ),
      failure: needStates.some(
        (n) =>
          n.status !== 'success' &&
          n.status !== 'skipped' &&
          !(n.status === 'failure' && n.def?.continueOnError),
      ),
      cancelled: record.cancelReason !== null,
    },
  };
  if (job.matrix?.failFast) {
    // fail-fast: a combination that starts after another one failed does not run.
    const failed = record.def.jobs.find(
      (d) =>
        d.group === job.group &&
        d.name !== job.name &&
        !d.continueOnError &&
        ['failure', 'error'].includes(record.jobs.get(d.name)?.status ?? ''),
    );
    if (failed)
      return {
        end: {
          status: 'canceled',
          exitCode: null,
          reason: `fail-fast: ${failed.title ?? failed.name} failed`,
        },
      };
  }
  let jobEnv: Record<string, string>;
  try {
    if (job.condition && !evaluateCondition(job.condition, jobCtx))
      return {
        end: { status: 'skipped', exitCode: null, reason: `its if: is false (${job.condition.trim()})` },
      };
    const workflowEnv = renderEnv(record.def.env, { contexts: { ...contexts, env: server.env } });
    jobEnv = {
      ...workflowEnv,
      ...renderEnv(job.env, { contexts: { ...contexts, env: { ...server.env, ...workflowEnv } } }),
    };
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    return { end: { status: 'failure', exitCode: null, reason: `expression error: ${err.message}` } };
  }
  const base = baseEnv(record, job, { workspace, serverEnv: config.env });
  return {
    job,
    id,
    dirs,
    fork,
    asked,
    network,
    visible,
    limits,
    cloneUrl,
    secrets,
    server,
    contexts,
    jobEnv,
    base,
  };
}
