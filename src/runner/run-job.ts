import { hostname } from 'node:os';
import { mkdir, realpath, rm } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { JobResult } from '../builds/lifecycle.ts';
import { cloneUrlFor } from '../builds/clone-url.ts';
import { UnresolvedReferenceError } from '../pipelines/expressions.ts';
import { hasPathFilter, pathsAllow } from '../pipelines/match.ts';
import type { Keys } from '../queue/keys.ts';
import type { BuildRecord } from '../queue/store.ts';
import type { Backend, JobDirs, JobLimits, NetworkMode } from './backend.ts';
import { changedFiles, checkout, mirrorObjects } from './checkout.ts';
import { gitEnv } from './git.ts';
import { JobLog } from './job-log.ts';
import { createMasker } from './mask.ts';
import { describeShell, runStep } from './run-step.ts';
import { stepEnv } from './step-env.ts';
import { environmentFor, fromFork } from './secret-access.ts';
import { pullRequestRef } from '../core/event.ts';
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
import { startJobGateway, type JobGateway } from './job-gateway.ts';
import { randomBytes } from 'node:crypto';

/** More changed files than this count as "unknown", which never blocks a build (see pathsAllow). */
export const CHANGED_FILES_CAP = 3000;

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
): Promise<RunJobOutcome> {
  const { config } = deps;
  const job = record.def.jobs.find((j) => j.name === jobName)!;
  const secrets = new Set<string>();
  let envs: Record<string, string>[];
  let cloneUrl: string;
  const id = `${record.meta.id}-${jobName}-${attempt}`;
  const root = join(config.dataDir, 'workspaces', id);
  const dirs: JobDirs = {
    root,
    src: join(root, 'src'),
    scripts: join(root, 'scripts'),
    tmp: join(root, 'tmp'),
    home: join(root, 'home'),
  };
  const workspace = dirs.src;
  const { backend } = deps;
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
    envs = job.steps.map((s) => stepEnv(record, job, s, { workspace, serverEnv: visible.env, secrets }));
  } catch (err) {
    if (!(err instanceof UnresolvedReferenceError)) throw err;
    return { status: 'error', exitCode: null, reason: `this worker cannot run the job: ${err.message}` };
  }
  const log = new JobLog(
    deps.redis,
    deps.keys.log(record.meta.id, jobName),
    config.logMaxBytes,
    createMasker(secrets),
  );
  const timeoutMs = (job.timeoutMinutes ?? config.jobTimeoutMinutes) * 60_000;
  const jobTimeout = new AbortController();
  const timer = setTimeout(() => jobTimeout.abort(), timeoutMs);
  const stop = signal ? AbortSignal.any([signal, jobTimeout.signal]) : jobTimeout.signal;
  const deadline = Date.now() + timeoutMs;
  let runtime: Awaited<ReturnType<Backend['prepare']>> | null = null;
  const credentials = new JobCredentials(deps.redis, deps.keys.prefix);
  let credential: string | null = null;
  let gateway: JobGateway | null = null;
  try {
    log.system(`pushci: job ${jobName}, attempt ${attempt}, on ${hostname()}`);
    if (attempt > 1)
      log.system(
        `pushci: this is attempt ${attempt}; the worker running attempt ${attempt - 1} stopped before finishing`,
      );
    const pr = record.meta.pull_request;
    if (fork) {
      if (!backend.isolated) {
        const reason = `pull request #${pr!.number} comes from a fork (${pr!.head_repository}): it runs only in the sandbox, and this worker has none (PUSHCI_RUNNER=${backend.name})`;
        log.system(`pushci: ${reason}`);
        return { status: 'error', exitCode: null, reason };
      }
      log.system(
        `pushci: pull request #${pr!.number} comes from a fork (${pr!.head_repository}): no secrets, sandbox only${asked === 'host' ? ', network "default" instead of "host"' : ''}`,
      );
    }
    if (visible.withheld.length > 0 && !fork)
      log.system(
        `pushci: secrets limited to other events or branches are empty in this build: ${visible.withheld.join(', ')}`,
      );
    log.system(`pushci: checking out ${record.meta.sha}${pr ? ` (pull request #${pr.number})` : ''}`);
    for (const d of [dirs.root, dirs.src, dirs.scripts, dirs.tmp, dirs.home])
      await mkdir(d, { recursive: true, mode: 0o700 });
    const git = gitEnv(config.env);
    // Path filters apply to what a push or pull request changed; a manual, scheduled or re-run build means it.
    const filters =
      record.meta.event === 'push' || record.meta.event === 'tag'
        ? record.def.trigger
        : record.meta.event === 'pull_request'
          ? (record.def.pullRequest ?? null)
          : null;
    const pullRef = pr ? pullRequestRef(record.meta.forge, pr.number) : null;
    await checkout({
      ...(deps.knownCommits ? { known: deps.knownCommits } : {}),
      ...(deps.serialize ? { serialize: deps.serialize } : {}),
      ...(pullRef ? { pullRef } : {}),
      dataDir: config.dataDir,
      cloneUrl,
      sha: record.meta.sha,
      alsoFetch: hasPathFilter(filters) && !/^0+$/.test(record.meta.before) ? [record.meta.before] : [],
      workspace,
      env: git,
      signal: stop,
    });
    if (filters && hasPathFilter(filters)) {
      const files = await changedFiles(
        workspace,
        record.meta.before,
        record.meta.sha,
        git,
        CHANGED_FILES_CAP,
        record.meta.event === 'pull_request',
      );
      if (!pathsAllow(filters, files)) {
        return {
          status: 'skip-build',
          reason: `no changed file matches the path filters (${files!.length} files changed)`,
        };
      }
    }
    const prepare = {
      id,
      dirs,
      readOnly: [mirrorObjects(config.dataDir, cloneUrl)],
      network,
      limits,
    };
    log.system(backend.describe(prepare));
    runtime = await backend.prepare(prepare);
    // The job's own credential for the server's cache and artifact service, revoked when it ends.
    const serverUrl = deps.serverUrl?.() ?? config.serverUrl;
    credential = await credentials.mint(
      {
        buildId: record.meta.id,
        job: jobName,
        attempt,
        repository: `${record.meta.forge}:${record.meta.repository}`,
        ref: record.meta.ref,
        defaultRef: await (deps.defaultBranch ?? defaultBranchResolver())(cloneUrl, git),
      },
      timeoutMs + 10 * 60_000,
    );
    // The actions/cache protocol for the steps, through the job's gateway (which holds the credential).
    gateway = await startJobGateway({
      dataDir: config.dataDir,
      name: randomBytes(8).toString('hex'),
      serverUrl,
      credential,
    });
    const exposed = runtime.exposeGateway ? await runtime.exposeGateway(gateway.socket) : null;
    const cacheUrl =
      exposed === null ? await gateway.listenLoopback() : 'url' in exposed ? exposed.url : null;
    if (exposed && 'url' in exposed) gateway.base = exposed.url;
    if (exposed && 'unavailable' in exposed)
      log.system(`pushci: the actions/cache protocol is not available to the steps: ${exposed.unavailable}`);
    // Not a secret: the gateway authenticates; clients only want the variable set.
    const cacheEnv: Record<string, string> = cacheUrl
      ? {
          ACTIONS_CACHE_URL: cacheUrl,
          ACTIONS_RUNTIME_TOKEN: 'pushci-job-gateway',
          // Where @actions/cache puts its archive (its default is GitHub's runner's /home/actions/temp).
          RUNNER_TEMP: runtime.env.TMPDIR ?? dirs.tmp,
        }
      : {};
    const files: JobFilesContext = {
      runtime,
      dirs,
      client: new JobFilesClient(serverUrl, credential, { signal: stop }),
      serverEnv: config.env,
      secrets,
      say: (line) => log.system(line),
      stderr: (line) => log.write('err', line),
      signal: stop,
    };
    await downloadArtifacts(files, job.downloadArtifacts ?? []);
    const caches = await resolveCaches(files, job);
    await restoreCaches(files, caches);
    const realSrc = await realpath(dirs.src);
    for (const [i, step] of job.steps.entries()) {
      const cwd = join(dirs.src, job.workingDirectory ?? '.', step.workingDirectory ?? '.');
      // A committed symlink must not move the working directory out of the checkout.
      const realCwd = await realpath(cwd).catch(() => null);
      if (realCwd === null || (realCwd !== realSrc && !realCwd.startsWith(realSrc + sep))) {
        const where = join(job.workingDirectory ?? '.', step.workingDirectory ?? '.');
        const reason = `working directory "${where}" of step "${step.name}" ${realCwd === null ? 'does not exist in the checkout' : 'leads outside the checkout (through a symlink)'}`;
        log.system(`pushci: ${reason}`);
        return { status: 'failure', exitCode: null, reason };
      }
      const stepTimeout = step.timeoutMinutes ? step.timeoutMinutes * 60_000 : Infinity;
      const left = deadline - Date.now();
      log.system(`▶ ${step.name}  (${describeShell(step.shell)})`);
      const started = Date.now();
      const res = await runStep(runtime, {
        script: step.run,
        shell: step.shell,
        scriptFile: join(dirs.scripts, `step-${i}.sh`),
        cwd: realCwd,
        env: { ...envs[i]!, ...runtime.env, ...cacheEnv },
        timeoutMs: Math.max(1, Math.min(stepTimeout, left)),
        killGraceMs: config.killGraceMs,
        signal: stop,
        onLine: (s, line) => log.write(s, line),
      });
      const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
      if (res.canceled && signal?.aborted) {
        log.system(`pushci: step "${step.name}" canceled after ${took}`);
        return { status: 'canceled', exitCode: res.exitCode, reason: String(signal.reason ?? 'canceled') };
      }
      if (res.canceled || (res.timedOut && stepTimeout >= left)) {
        const reason = `job timed out after ${job.timeoutMinutes ?? config.jobTimeoutMinutes} min (in step "${step.name}")`;
        log.system(`pushci: ${reason}`);
        return { status: 'failure', exitCode: res.exitCode, reason };
      }
      if (res.timedOut) {
        const reason = `step "${step.name}" timed out after ${step.timeoutMinutes} min`;
        log.system(`pushci: ${reason}`);
        if (!step.continueOnError) return { status: 'failure', exitCode: res.exitCode, reason };
        continue;
      }
      if (res.limit) {
        const reason = `step "${step.name}" ${res.limit}`;
        log.system(`pushci: ${reason}`);
        if (!step.continueOnError) return { status: 'failure', exitCode: res.exitCode, reason };
        continue;
      }
      const code = res.exitCode;
      log.system(
        `pushci: step "${step.name}" ${code === 0 ? 'succeeded' : `failed with ${code === null ? `signal ${res.signal}` : `exit code ${code}`}`} in ${took}`,
      );
      if (code !== 0) {
        const reason = `step "${step.name}" failed (${code === null ? `signal ${res.signal}` : `exit code ${code}`})`;
        if (step.continueOnError) {
          log.system('pushci: continue-on-error is set; going on');
          continue;
        }
        return { status: 'failure', exitCode: code, reason };
      }
    }
    await saveCaches(files, caches);
    await uploadArtifacts(files, job);
    return { status: 'success', exitCode: 0, reason: null };
  } catch (err) {
    const reason = (err as Error).message;
    log.system(`pushci: error: ${reason}`);
    if (signal?.aborted)
      return { status: 'canceled', exitCode: null, reason: String(signal.reason ?? 'canceled') };
    if (jobTimeout.signal.aborted)
      return {
        status: 'failure',
        exitCode: null,
        reason: `job timed out after ${job.timeoutMinutes ?? config.jobTimeoutMinutes} min`,
      };
    return { status: 'error', exitCode: null, reason };
  } finally {
    clearTimeout(timer);
    await gateway?.close().catch(() => {});
    if (credential) await credentials.revoke(credential).catch(() => {});
    await runtime?.destroy().catch(() => {});
    await log.close().catch(() => {});
    if (!config.keepWorkspaces) await rm(root, { recursive: true, force: true }).catch(() => {});
  }
}
