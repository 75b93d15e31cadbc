import { realpath } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { JobResult } from '../builds/lifecycle.ts';
import type { Keys } from '../queue/keys.ts';
import type { BuildRecord } from '../queue/build-record.ts';
import type { Backend } from './backend.ts';
import type { JobDef } from '../pipelines/pipeline.ts';
import { mirrorObjects } from './checkout.ts';
import { gitEnv } from './git.ts';
import { runJobSteps } from './run-steps.ts';
import { loadAction } from './load-action.ts';
import { exposeJobGateway } from './expose-job-gateway.ts';
import { jobEnding } from './job-ending.ts';
import { runnerContext } from './contexts.ts';
import { stepDebug } from './step-files.ts';
import { JobCredentials } from '../artifacts/job-credentials.ts';
import { defaultBranchResolver } from './default-branch.ts';
import { JobFilesClient } from './job-files-client.ts';
import {
  downloadArtifacts,
  resolveCaches,
  restoreCaches,
  saveCaches,
  uploadArtifacts,
  type JobFilesContext,
} from './job-files.ts';
import { startJobAccess } from './job-access.ts';
import { runtimeToken } from './runtime-token.ts';
import { noTimings, type JobTimings } from './job-timings.ts';
import { planJob, type JobPlan } from './job-plan.ts';
import { openJobScope, type JobScope } from './job-scope.ts';
import { jobHolds, releaseJob, type JobHolds } from './job-holds.ts';
import { setUpActions } from './set-up-actions.ts';
import { startJobServices } from './services/start-job-services.ts';
import { checkoutJob } from './job-checkout.ts';
import { asyncFileWork, type FileWork } from './files/file-work.ts';

export interface RunJobDeps {
  config: Readonly<Config>;
  redis: Redis;
  keys: Keys;
  /** Commits this worker already saw in its mirrors. */
  knownCommits?: Set<string>;
  /** One fetch at a time per mirror within this worker. */
  serialize?: <T>(key: string, fn: () => Promise<T>) => Promise<T>;
  /** Where the steps run. */
  backend: Backend;
  /** Base URL of the pushci server for caches and artifacts (default PUSHCI_URL). */
  serverUrl?: () => string;
  /** The default branch of a clone URL (for cache scopes); one per worker, it remembers answers. */
  defaultBranch?: ReturnType<typeof defaultBranchResolver>;
  /** The job's file work (folders, checkout skeleton, command files, removal); the worker's own thread. */
  files?: FileWork;
  /**
   * Takes the workspace's removal (nothing of the job runs any more by then) to do once the job's result
   * is stored, so the result and the worker's slot do not wait for the disk; absent: the workspace is
   * gone when runJob returns.
   */
  removeWorkspace?: (remove: () => Promise<void>) => void;
}

export type RunJobOutcome = JobResult | { status: 'skip-build'; reason: string };

/**
 * Runs one job attempt: a fresh workspace named from ids, a checkout of the exact commit, then the steps
 * in order until one fails. Everything it prints goes to the job's log, masked.
 */
export async function runJob(
  deps: RunJobDeps,
  record: BuildRecord,
  jobName: string,
  attempt: number,
  signal: AbortSignal | undefined,
  timings: JobTimings = noTimings,
  /** Ends at once what still runs after a cancel or a timeout (a second cancel, a shutdown). */
  force?: AbortSignal,
): Promise<RunJobOutcome> {
  const plan = planJob(deps.config, record, jobName, attempt);
  if ('end' in plan) return plan.end;
  const scope = openJobScope(deps, record.meta.id, jobName, attempt, plan, signal, force);
  const holds = jobHolds(new JobCredentials(deps.redis, deps.keys.prefix));
  try {
    const outcome = await runAttempt({ deps, record, jobName, attempt, plan, scope, holds, timings });
    // Every reason is masked here, the one way out: a step's name or an action's text may hold a secret.
    return outcome.reason ? { ...outcome, reason: scope.mask(outcome.reason) } : outcome;
  } catch (err) {
    const reason = scope.mask((err as Error).message);
    scope.log.system(`pushci: error: ${reason}`);
    if (scope.stop.aborted) return scope.stopped(null);
    return { status: 'error', exitCode: null, reason };
  } finally {
    scope.close();
    await releaseJob({
      holds,
      log: scope.log,
      workspace: deps.config.keepWorkspaces ? null : plan.dirs.root,
      files: deps.files ?? asyncFileWork,
      timings,
      ...(deps.removeWorkspace ? { later: deps.removeWorkspace } : {}),
    });
  }
}

/** The sandboxes a job is expected to start: its steps and services (an action's post step or its own steps add more). */
const sandboxStarts = (job: JobDef) => job.steps.length + (job.services?.length ?? 0);

interface Attempt {
  deps: RunJobDeps;
  record: BuildRecord;
  jobName: string;
  attempt: number;
  plan: JobPlan;
  scope: JobScope;
  holds: JobHolds;
  timings: JobTimings;
}

/** The attempt's parts in order: checkout, actions, sandbox, caches, services, steps, what it keeps. */
async function runAttempt(a: Attempt): Promise<RunJobOutcome> {
  const { deps, record, jobName, attempt, plan, scope, holds, timings } = a;
  const { config } = deps;
  const { job, dirs, cloneUrl, server, contexts, jobEnv, base } = plan;
  const { log, stop } = scope;
  const git = gitEnv(config.env);
  const serverUrl = deps.serverUrl?.() ?? config.serverUrl;
  // The credential and the gateway need nothing of the checkout: made while it runs; the cleanup waits
  // for them (holds.starting), so it always sees them.
  const access = startJobAccess({
    credentials: holds.credentials,
    grant: {
      buildId: record.meta.id,
      job: jobName,
      attempt,
      repository: `${record.meta.forge}:${record.meta.repository}`,
      ref: record.meta.ref,
    },
    defaultRef: () => (deps.defaultBranch ?? defaultBranchResolver())(cloneUrl, git),
    // The job's steps may run until its timeout, then its cleanup (always() steps saving caches).
    ttlMs: scope.timeoutMs + deps.config.cancelCleanupMs + 10 * 60_000,
    dataDir: config.dataDir,
    serverUrl,
    held: holds.access,
  });
  holds.starting = access;
  // The sandbox's network, cgroups and first step's process need nothing of the checkout either.
  holds.reserved =
    deps.backend.reserve?.({
      id: plan.id,
      network: plan.network,
      limits: plan.limits,
      starts: sandboxStarts(job),
    }) ?? null;
  // Awaited by `enterSandbox`, or by the cleanup when the job ends before it.
  holds.reserved?.catch(() => {});
  const early = await checkoutJob({ deps, plan, record, jobName, attempt, log, git, stop, timings });
  if (early) return early;
  timings.lap('checkout');
  const realSrc = await realpath(dirs.src);
  const actions = await setUpActions({ config, plan, scope, holds, timings, realSrc, git });
  if ('end' in actions) return actions.end;
  const { rt, gatewayEnv, gateway, files } = await enterSandbox(a, access, actions.readOnly, serverUrl);
  await downloadArtifacts(files, job.downloadArtifacts ?? []);
  const caches = await resolveCaches(files, job);
  await restoreCaches(files, caches);
  contexts.runner = { ...runnerContext(rt.tmp), debug: stepDebug(contexts) ? '1' : '' };
  timings.lap('artifacts and caches');
  const services = await startJobServices({
    plan,
    scope,
    holds,
    killGraceMs: config.killGraceMs,
    rt,
    realSrc,
  });
  if ('end' in services) return services.end;
  timings.lap('services');
  const ran = await runJobSteps(
    {
      rt,
      dirs,
      realSrc,
      log,
      contexts,
      serverEnv: server.env,
      jobEnv,
      base,
      gatewayEnv,
      openGateway: () => gateway.open(),
      servicesEnv: services.env ?? {},
      fromSteps: scope.fromSteps,
      addMask: scope.addMask,
      cut: scope.cut,
      jobWorkingDirectory: job.workingDirectory,
      killGraceMs: config.killGraceMs,
      ...(deps.files ? { files: deps.files } : {}),
      stop,
      cancel: scope.cancel,
      deadline: scope.deadline,
      timeoutText: scope.timeoutText,
      stopped: scope.stopped,
      cleanup: scope.cleanup,
      ending: null,
      loadAction: (ref) =>
        loadAction(ref, { checkout: dirs.src, realSrc, workspace: rt.workspace, fetched: actions.fetched }),
      node: actions.nodePath ?? {
        problem: `node actions need a Node: ${config.actionsNode ?? process.execPath} (PUSHCI_ACTIONS_NODE) does not exist`,
      },
      posts: [],
      seq: 0,
      timings,
    },
    job.steps,
  );
  if ('end' in ran) return ran.end;
  const failed = ran.failed;
  (contexts.job as { status: string }).status = failed ? 'failure' : 'success';
  const ended = jobEnding({
    outputs: job.outputs ?? {},
    ctx: { contexts: { ...contexts, env: { ...server.env, ...jobEnv, ...scope.fromSteps.env } } },
    fromSteps: scope.fromSteps,
    mask: scope.mask,
    say: (line) => log.system(line),
  });
  // The reason names the step, whose name may hold a secret: runJob masks it.
  if (failed) return { status: 'failure', ...failed, ...ended };
  if (stop.aborted) return scope.stopped('after the last step');
  // Caches and artifacts are kept only from a job that succeeded.
  await saveCaches(files, caches);
  await uploadArtifacts(files, job);
  return { status: 'success', exitCode: 0, reason: null, ...ended };
}

/**
 * The job's sandbox (the checkout, the mirror's objects and the fetched actions in reach), then the
 * credential and cache gateway its steps reach the server's caches and artifacts through.
 */
async function enterSandbox(
  a: Attempt,
  access: ReturnType<typeof startJobAccess>,
  actionsReadOnly: string[],
  serverUrl: string,
) {
  const { deps, record, jobName, plan, scope, holds, timings } = a;
  const { config, backend } = deps;
  const { dirs, cloneUrl, secrets } = plan;
  const { log, stop } = scope;
  // A reservation that failed (its slot network did not start) is tried again by `prepare`.
  const reserved = holds.reserved ? await holds.reserved.catch(() => undefined) : undefined;
  const prepare = {
    id: plan.id,
    dirs,
    readOnly: [mirrorObjects(config.dataDir, cloneUrl), ...actionsReadOnly],
    network: plan.network,
    limits: plan.limits,
    starts: sandboxStarts(plan.job),
    ...(reserved ? { reserved } : {}),
  };
  log.system(backend.describe(prepare));
  const rt = (holds.runtime = await backend.prepare(prepare));
  timings.lap('sandbox prepare');
  const made = await access;
  if ('err' in made) throw made.err;
  const gatewayEnv = await exposeJobGateway({
    runtime: rt,
    gateway: made.gateway,
    token: runtimeToken(record.meta.id, jobName),
    say: (line) => log.system(line),
  });
  const files: JobFilesContext = {
    runtime: rt,
    dirs,
    client: new JobFilesClient(serverUrl, made.credential.token, {
      signal: stop,
      ready: made.credential.ready,
    }),
    serverEnv: config.env,
    secrets,
    say: (line) => log.system(line),
    stderr: (line) => log.write('err', line),
    signal: stop,
  };
  timings.lap('credential and cache gateway');
  return { rt, gatewayEnv, gateway: made.gateway, files };
}
