import { realpath, rm } from 'node:fs/promises';
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
import { prefetchActions } from './prefetch-actions.ts';
import { actionsCacheAt, type ActionHolds } from './actions-cache.ts';
import { actionsCacheDir, fetchAction } from './fetch-action.ts';
import { runnerContext } from './contexts.ts';
import { renderEnv } from './step-env.ts';
import { createStepFileState, jobOutputs } from './step-files.ts';
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
    const actionsCache = actionsCacheAt(actionsCacheDir(config.dataDir), config.actionsCacheBytes);
    holds = actionsCache.holds();
    const fetched = await prefetchActions(uses, {
      checkout: dirs.src,
      realSrc,
      fetch: (ref) =>
        fetchAction({
          dataDir: config.dataDir,
          baseUrl: config.actionsUrl,
          allow: config.actionsAllow,
          ref,
          env: git,
          signal: stop,
          cache: actionsCache,
          holds: holds!,
        }),
      say: (line) => log.system(line),
    });
    // As GitHub's "Set up job": an action that cannot be fetched fails the job before its first step.
    const unfetched = [...fetched.values()].flatMap((f) => ('problem' in f ? [f.problem] : []));
    if (unfetched.length > 0) {
      if (stop.aborted) return stoppedOutcome('while fetching actions');
      const reason = `set up job: cannot fetch ${unfetched.join('; ')}`;
      log.system(`pushci: ${reason}; no step ran`);
      return { status: 'failure', exitCode: null, reason };
    }
    const actionDirs = [...fetched.values()].flatMap((f) => ('dir' in f ? [f.dir] : []));
    // Node actions run with this worker's own Node (or PUSHCI_ACTIONS_NODE), shown read-only to the steps.
    const nodePath = await realpath(config.actionsNode ?? process.execPath).catch(() => null);
    const prepare = {
      id,
      dirs,
      readOnly: [
        mirrorObjects(config.dataDir, cloneUrl),
        ...new Set(actionDirs),
        ...(uses.length > 0 && nodePath ? [nodePath] : []),
      ],
      network,
      limits,
    };
    if (uses.length > 0) timings.lap('actions');
    log.system(backend.describe(prepare));
    runtime = await backend.prepare(prepare);
    timings.lap('sandbox prepare');
    const made = await access;
    if ('err' in made) throw made.err;
    const gw = made.gateway;
    const exposed = runtime.exposeGateway ? await runtime.exposeGateway(gw.socket) : null;
    const cacheUrl = exposed === null ? await gw.listenLoopback() : 'url' in exposed ? exposed.url : null;
    if (exposed && 'url' in exposed) gw.base = exposed.url;
    if (exposed && 'unavailable' in exposed)
      log.system(
        `pushci: the actions/cache and artifact protocols are not available to the steps: ${exposed.unavailable}`,
      );
    // Not a secret: the gateway authenticates; clients only want the variable set.
    const cacheEnv: Record<string, string> = cacheUrl
      ? {
          ACTIONS_CACHE_URL: cacheUrl,
          // The artifact protocol (@actions/artifact) is served by the same gateway.
          ACTIONS_RESULTS_URL: cacheUrl,
          ACTIONS_RUNTIME_TOKEN: runtimeToken(record.meta.id, jobName),
          // Where @actions/cache puts its archive (its default is GitHub's runner's /home/actions/temp).
          RUNNER_TEMP: runtime.env.TMPDIR ?? dirs.tmp,
        }
      : {};
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
    if ('end' in ran) return ran.end;
    const failed = ran.failed;
    (contexts.job as { status: string }).status = failed ? 'failure' : 'success';
    // What leaves the job (Redis, the API, payloads) is masked; an output holding a secret is dropped, as on GitHub.
    const outputs = jobOutputs(
      job.outputs ?? {},
      { contexts: { ...contexts, env: { ...server.env, ...jobEnv, ...fromSteps.env } } },
      (m) => log.system(`pushci: ${m}`),
    );
    for (const [k, v] of Object.entries(outputs)) {
      if (mask(v) === v) continue;
      delete outputs[k];
      log.system(`pushci: output "${k}" is left out: it holds a secret or a masked value`);
    }
    const ended = {
      outputs,
      annotations: fromSteps.annotations.map((a) => ({
        ...a,
        message: a.message.split('\n').map(mask).join('\n'),
        title: a.title === null ? null : mask(a.title),
      })),
      summary: fromSteps.summary.split('\n').map(mask).join('\n'),
    };
    if (failed) return { status: 'failure', ...failed, ...ended };
    if (stop.aborted) return stoppedOutcome('after the last step');
    // Caches and artifacts are kept only from a job that succeeded.
    await saveCaches(files, caches);
    await uploadArtifacts(files, job);
    return { status: 'success', exitCode: 0, reason: null, ...ended };
  } catch (err) {
    const reason = (err as Error).message;
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
    if (!config.keepWorkspaces) await rm(dirs.root, { recursive: true, force: true }).catch(() => {});
    timings.lap('workspace removal');
  }
}
