import { realpath } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { JobResult } from '../builds/lifecycle.ts';
import type { Value } from '../pipelines/expr/values.ts';
import type { Keys } from '../queue/keys.ts';
import type { BuildRecord } from '../queue/build-record.ts';
import type { Backend } from './backend.ts';
import { mirrorObjects } from './checkout.ts';
import { gitEnv } from './git.ts';
import { JobLog } from './job-log.ts';
import { createMasker } from './mask.ts';
import { runJobSteps } from './run-steps.ts';
import { loadAction } from './load-action.ts';
import { actionsCacheAt, type ActionHolds } from './actions-cache.ts';
import { actionsCacheDir } from './fetch-action.ts';
import { fetchJobActions } from './fetch-job-actions.ts';
import { exposeJobGateway } from './expose-job-gateway.ts';
import { jobEnding } from './job-ending.ts';
import { runnerContext } from './contexts.ts';
import { renderEnv } from './step-env.ts';
import { createStepFileState } from './step-files.ts';
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
import { startJobAccess, type JobAccessHeld } from './job-access.ts';
import { runtimeToken } from './runtime-token.ts';
import { noTimings, type JobTimings } from './job-timings.ts';
import { planJob } from './job-plan.ts';
import { checkoutJob } from './job-checkout.ts';
import { asyncFileWork, type FileWork } from './files/file-work.ts';
import { prepareServices, ServiceError, type JobServices } from './services/start-services.ts';

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
): Promise<RunJobOutcome> {
  const { config, backend } = deps;
  const plan = planJob(config, record, jobName, attempt);
  if ('end' in plan) return plan.end;
  const { job, id, dirs, network, limits, cloneUrl, secrets, server, contexts, jobEnv, base } = plan;
  // ::add-mask:: adds values while the job runs, so the masker is rebuilt then.
  let mask = createMasker(secrets);
  const addMask = (value: string) => {
    if (value.trim().length === 0 || secrets.has(value)) return;
    secrets.add(value);
    mask = createMasker(secrets);
  };
  const log = new JobLog(deps.redis, deps.keys.log(record.meta.id, jobName), config.logMaxBytes, (line) =>
    mask(line),
  );
  const fromSteps = createStepFileState();
  const timeoutMs = (job.timeoutMinutes ?? config.jobTimeoutMinutes) * 60_000;
  const jobTimeout = new AbortController();
  const timer = setTimeout(() => jobTimeout.abort(), timeoutMs);
  const stop = signal ? AbortSignal.any([signal, jobTimeout.signal]) : jobTimeout.signal;
  const deadline = Date.now() + timeoutMs;
  /** The outcome of a job that a cancel or its timeout stopped (`where` is said in the log). */
  const stoppedOutcome = (where: string | null): JobResult => {
    if (signal?.aborted) {
      if (where) log.system(`pushci: job canceled ${where}`);
      return { status: 'canceled', exitCode: null, reason: String(signal.reason ?? 'canceled') };
    }
    const reason = `job timed out after ${job.timeoutMinutes ?? config.jobTimeoutMinutes} min`;
    if (where) log.system(`pushci: ${reason} (${where})`);
    return { status: 'failure', exitCode: null, reason };
  };
  let runtime: Awaited<ReturnType<Backend['prepare']>> | null = null;
  const credentials = new JobCredentials(deps.redis, deps.keys.prefix);
  const held: JobAccessHeld = { credential: null, gateway: null };
  let services: JobServices | null = null;
  let holds: ActionHolds | null = null;
  try {
    const git = gitEnv(config.env);
    const serverUrl = deps.serverUrl?.() ?? config.serverUrl;
    // The credential and the gateway need nothing of the checkout: made while it runs, and settled
    // before anything returns or throws, so the cleanup below always sees them.
    const access = startJobAccess({
      credentials,
      grant: {
        buildId: record.meta.id,
        job: jobName,
        attempt,
        repository: `${record.meta.forge}:${record.meta.repository}`,
        ref: record.meta.ref,
      },
      defaultRef: () => (deps.defaultBranch ?? defaultBranchResolver())(cloneUrl, git),
      ttlMs: timeoutMs + 10 * 60_000,
      dataDir: config.dataDir,
      serverUrl,
      held,
    });
    let early: Awaited<ReturnType<typeof checkoutJob>>;
    try {
      early = await checkoutJob({ deps, plan, record, jobName, attempt, log, git, stop, timings });
    } catch (err) {
      await access;
      throw err;
    }
    if (early) {
      await access;
      return early;
    }
    timings.lap('checkout');
    // Actions from other repositories are fetched here, by the worker, before any step runs.
    const realSrc = await realpath(dirs.src);
    const uses = job.steps.flatMap((s) => (s.uses !== undefined ? [s.uses] : []));
    const cache = actionsCacheAt(actionsCacheDir(config.dataDir), config.actionsCacheBytes);
    holds = cache.holds();
    const actions = await fetchJobActions({
      config,
      uses,
      checkout: dirs.src,
      realSrc,
      env: git,
      signal: stop,
      cache,
      holds,
      say: (line) => log.system(line),
    });
    if ('unfetched' in actions) {
      if (stop.aborted) return stoppedOutcome('while fetching actions');
      const reason = `set up job: cannot fetch ${actions.unfetched.join('; ')}`;
      log.system(`pushci: ${reason}; no step ran`);
      return { status: 'failure', exitCode: null, reason };
    }
    const { fetched, nodePath } = actions;
    const prepare = {
      id,
      dirs,
      readOnly: [mirrorObjects(config.dataDir, cloneUrl), ...actions.readOnly],
      network,
      limits,
    };
    if (uses.length > 0) timings.lap('actions');
    log.system(backend.describe(prepare));
    runtime = await backend.prepare(prepare);
    timings.lap('sandbox prepare');
    const made = await access;
    if ('err' in made) throw made.err;
    const cacheEnv = await exposeJobGateway({
      runtime,
      gateway: made.gateway,
      token: runtimeToken(record.meta.id, jobName),
      tmp: dirs.tmp,
      say: (line) => log.system(line),
    });
    const files: JobFilesContext = {
      runtime,
      dirs,
      client: new JobFilesClient(serverUrl, made.credential, { signal: stop }),
      serverEnv: config.env,
      secrets,
      say: (line) => log.system(line),
      stderr: (line) => log.write('err', line),
      signal: stop,
    };
    timings.lap('credential and cache gateway');
    await downloadArtifacts(files, job.downloadArtifacts ?? []);
    const caches = await resolveCaches(files, job);
    await restoreCaches(files, caches);
    const rt = runtime;
    contexts.runner = runnerContext(rt.tmp);
    timings.lap('artifacts and caches');
    if (job.services?.length) {
      try {
        services = await prepareServices({
          runtime: rt,
          defs: job.services,
          scripts: dirs.scripts,
          cwd: realSrc,
          envFor: (def) => ({
            ...base,
            ...jobEnv,
            ...renderEnv(def.env, { contexts: { ...contexts, env: { ...server.env, ...jobEnv } } }),
          }),
          log,
          killGraceMs: config.killGraceMs,
          signal: stop,
        });
        (contexts.job as { [k: string]: Value }).services = services.context;
        await services.start();
      } catch (err) {
        if (!(err instanceof ServiceError)) throw err;
        log.system(`pushci: ${err.message}`);
        return { status: 'failure', exitCode: null, reason: err.message };
      }
    }
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
        // The actions/cache protocol and the services' variables, for every step.
        cacheEnv: { ...cacheEnv, ...services?.env },
        fromSteps,
        addMask,
        jobWorkingDirectory: job.workingDirectory,
        killGraceMs: config.killGraceMs,
        ...(deps.files ? { files: deps.files } : {}),
        stop,
        cancel: signal,
        deadline,
        timeoutText: `job timed out after ${job.timeoutMinutes ?? config.jobTimeoutMinutes} min`,
        stopped: stoppedOutcome,
        loadAction: (ref) =>
          loadAction(ref, { checkout: dirs.src, realSrc, workspace: rt.workspace, fetched }),
        node: nodePath ?? {
          problem: `node actions need a Node: ${config.actionsNode ?? process.execPath} (PUSHCI_ACTIONS_NODE) does not exist`,
        },
        posts: [],
        seq: 0,
        timings,
      },
      job.steps,
    );
    if ('end' in ran) return { ...ran.end, reason: ran.end.reason === null ? null : mask(ran.end.reason) };
    const failed = ran.failed;
    (contexts.job as { status: string }).status = failed ? 'failure' : 'success';
    const ended = jobEnding({
      outputs: job.outputs ?? {},
      ctx: { contexts: { ...contexts, env: { ...server.env, ...jobEnv, ...fromSteps.env } } },
      fromSteps,
      mask,
      say: (line) => log.system(line),
    });
    // The reason names the step, whose name may hold a secret (`name: deploy ${{ secrets.X }}`).
    if (failed) return { status: 'failure', ...failed, reason: mask(failed.reason), ...ended };
    if (stop.aborted) return stoppedOutcome('after the last step');
    // Caches and artifacts are kept only from a job that succeeded.
    await saveCaches(files, caches);
    await uploadArtifacts(files, job);
    return { status: 'success', exitCode: 0, reason: null, ...ended };
  } catch (err) {
    const reason = mask((err as Error).message);
    log.system(`pushci: error: ${reason}`);
    if (stop.aborted) return stoppedOutcome(null);
    return { status: 'error', exitCode: null, reason };
  } finally {
    clearTimeout(timer);
    timings.lap('outputs');
    await services?.stop().catch(() => {});
    await held.gateway?.close().catch(() => {});
    if (held.credential) await credentials.revoke(held.credential).catch(() => {});
    await runtime?.destroy().catch(() => {});
    await holds?.release();
    timings.lap('sandbox and gateway teardown');
    await log.close().catch(() => {});
    timings.lap('log flush');
    if (!config.keepWorkspaces)
      await (deps.files ?? asyncFileWork).apply([{ op: 'rm', path: dirs.root }]).catch(() => {});
    timings.lap('workspace removal');
  }
}
