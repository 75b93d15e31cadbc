import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createFileStores } from '../artifacts/file-stores.ts';
import { errorMiddleware } from '../http/error-middleware.ts';
import { jobApiRouter } from '../http/job-api.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { createBuilds } from '../builds/create-builds.ts';
import { isRepositoryName } from '../builds/repository-name.ts';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { isFinal } from '../model.ts';
import type { CiEvent } from '../core/event.ts';
import { pullRequestRef } from '../forges/pull-request-ref.ts';
import { loadPipelines } from '../pipelines/load.ts';
import { formatDiagnostic } from '../pipelines/diagnostic.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import { repositoryMatches } from '../pipelines/match.ts';
import { createRedis, waitReady } from '../queue/connection.ts';
import { startEmbeddedRedis } from '../redis/embedded.ts';
import { createJobWorker } from '../runner/job-worker.ts';
import { decodeLine } from '../runner/job-log.ts';
import { selectBackend } from '../runner/select-backend.ts';
import { createStack, jobWorkerParts } from '../stack.ts';
import { findPipeline } from '../builds/find-pipeline.ts';
import { snapshotWorkingTree } from './snapshot-working-tree.ts';

export interface RunLocalOptions {
  /** The pipeline's name; may be omitted when the folder has one pipeline. */
  pipeline?: string | undefined;
  /** Run only this job (its `needs` are not run). */
  job?: string | undefined;
  /** The event the build stands for: a push of the current branch (default) or a pull request into `target`. */
  event?: 'push' | 'pull_request';
  /** The target branch of `--event pull_request` (default: main). */
  target?: string | undefined;
  /** The repository the working tree stands for, when the pipeline's `repository` is a pattern. */
  repo?: string | undefined;
  /** The working tree to build. */
  cwd: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  log: Logger;
  /** Stops the run (Ctrl-C): the build is cancelled and its processes killed. */
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Picks the pipeline to run and narrows it for a local run (no notifications, no commit statuses). */
export function localPipeline(
  pipelines: readonly Pipeline[],
  name: string | undefined,
  job: string | undefined,
  cloneUrl: string,
): Pipeline {
  const names = pipelines.map((p) => p.name);
  let p: Pipeline | undefined;
  if (name === undefined) {
    if (pipelines.length !== 1)
      throw new ConfigError(
        pipelines.length === 0
          ? 'there is no pipeline to run in the pipelines folder'
          : `say which pipeline to run: pushci run <${names.join('|')}>`,
      );
    p = pipelines[0];
  } else {
    // As for pushci trigger: the name, or the file when only one fits.
    p = findPipeline(pipelines, name);
  }
  let jobs = p!.jobs;
  if (job !== undefined) {
    // A job id, or a matrix job's id for all of its combinations.
    const picked = jobs.filter((x) => x.name === job || (x.group ?? null) === job);
    if (picked.length === 0)
      throw new ConfigError(
        `pipeline ${p!.name} has no job ${job}; it has: ${jobs.map((x) => x.name).join(', ')}`,
      );
    jobs = picked.map((j) => ({ ...j, needs: [] }));
  }
  // A local run tells nobody: no receivers, no commit statuses, no concurrency with real builds.
  return { ...p!, jobs, cloneUrl, notify: [], commitStatus: null, concurrency: null, maxJobs: null };
}

/** The pipeline for the one repository the working tree stands for: its own, or `--repo` within its pattern. */
function withRepository(def: Pipeline, repo: string | undefined): Pipeline {
  if (repo !== undefined) {
    if (!isRepositoryName(repo))
      throw new ConfigError(`--repo ${repo}: write a repository path like owner/name`);
    if (!repositoryMatches(def.repository, repo))
      throw new ConfigError(`pipeline ${def.name} is for ${def.repository}, not ${repo}`);
    return { ...def, repository: repo };
  }
  if (/[*?[{]/.test(def.repository))
    throw new ConfigError(
      `pipeline ${def.name} is for ${def.repository}, a pattern: say which repository this working tree is, pushci run --repo owner/name`,
    );
  return def;
}

/**
 * `pushci run`: builds the working tree (uncommitted changes included) with one pipeline, in the same
 * runner and sandbox the server uses, with a private Redis of its own, and prints the logs as they come.
 * Returns the exit code: 0 when the build succeeded.
 */
export async function runLocal(config: Readonly<Config>, opts: RunLocalOptions): Promise<number> {
  const { out, err, log } = opts;
  const loaded = await loadPipelines(config.pipelinesDir, config.env);
  const tmp = await mkdtemp(join(tmpdir(), 'pushci-run-'));
  const closers: Array<() => Promise<unknown>> = [];
  try {
    // Every problem of every file first: a broken file is why its pipeline is missing below.
    for (const d of loaded.diagnostics) err.write(`${formatDiagnostic(d)}\n`);
    const snapshot = await snapshotWorkingTree(opts.cwd, tmp);
    const def = withRepository(
      localPipeline(loaded.pipelines, opts.pipeline, opts.job, snapshot.repo),
      opts.repo,
    );

    const redisServer = await startEmbeddedRedis(join(tmp, 'data'), log);
    closers.push(() => redisServer.stop());
    const local: Config = {
      ...config,
      dataDir: join(tmp, 'data'),
      redisUrl: redisServer.url,
      queuePrefix: 'pushci-run',
      notifyUrls: [],
    } as Config;
    const redis = createRedis(redisServer.url, 'worker');
    const backend = await selectBackend(local, log);
    closers.push(() => redis.quit().catch(() => redis.disconnect()));
    await waitReady(redis, 5000);
    const stack = createStack(redis, local, log);
    closers.push(() => stack.close());
    // Jobs' caches and artifacts: the server's job API, on loopback, for this run only.
    const jobApi = jobApiRouter({ ...createFileStores(redis, local), store: stack.store });
    const app = new Koa();
    app.use(errorMiddleware);
    app.use(jobApi.routes()).use(jobApi.allowedMethods());
    const http = createServer(app.callback());
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => http.close(r)));
    const filesUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const worker = await createJobWorker({
      serverUrl: () => filesUrl,
      ...jobWorkerParts(stack),
      config: local,
      log,
      backend,
    });
    closers.push(() => worker.close(local.shutdownGraceMs));

    const base = {
      forge: def.forge ?? 'github',
      deliveryId: `run:${randomUUID()}`,
      repository: def.repository,
      before: '0'.repeat(snapshot.sha.length),
      after: snapshot.sha,
      headMessage: 'pushci run: the working tree',
      // You pushed it, as far as the steps know: `github.actor` and `GITHUB_ACTOR` are not empty.
      pusher: localUser(),
    } as const;
    let event: CiEvent;
    if (opts.event === 'pull_request') {
      // A same-repository pull request #1 from the current branch, fetched through the forge's PR ref
      // (which the snapshot repository carries), as the server would.
      const ref = pullRequestRef(base.forge, 1) ?? `refs/heads/${snapshot.branch}`;
      await snapshot.addRef(ref);
      event = {
        ...base,
        kind: 'pull_request',
        ref,
        pullRequest: {
          number: 1,
          action: 'opened',
          title: 'pushci run',
          source_branch: snapshot.branch,
          target_branch: opts.target ?? 'main',
          head_repository: def.repository,
          fork: false,
        },
      };
    } else
      event = {
        ...base,
        kind: 'push',
        ref: `refs/heads/${snapshot.branch}`,
        branch: snapshot.branch,
        deleted: false,
        created: false,
        forced: false,
      };
    const [created] = await createBuilds({ ...stack, log }, event, [def]);
    if (!created) throw new Error('the build was not created');
    err.write(
      `pushci run: ${def.name} on ${snapshot.top} (working tree of ${snapshot.branch}, ${snapshot.sha.slice(0, 12)}), ${backend.name === 'sandbox' ? 'sandboxed' : 'UNSANDBOXED (host runner)'}\n`,
    );
    const cancel = () =>
      void stack.lifecycle.cancel(created.id, 'interrupted (pushci run)', undefined, { force: true });
    opts.signal?.addEventListener('abort', cancel, { once: true });

    // Every job's log as it grows, each line prefixed with its job (jobs may run side by side).
    const printed = new Map<string, number>();
    const width = Math.max(...def.jobs.map((j) => j.name.length));
    const drain = async (job: string) => {
      const from = printed.get(job) ?? 0;
      const lines = await redis.lrange(stack.keys.log(created.id, job), from, from + 4999);
      printed.set(job, from + lines.length);
      for (const raw of lines) {
        const l = decodeLine(raw);
        const text = `${job.padEnd(width)} │ ${l.s === 'sys' ? '» ' : ''}${l.m}\n`;
        (l.s === 'err' ? err : out).write(text);
      }
      return lines.length;
    };
    let record;
    for (;;) {
      record = await stack.store.get(created.id);
      if (!record) throw new Error('the build disappeared');
      for (const [name, j] of record.jobs) {
        if (j.status === 'pending' || j.status === 'queued') continue;
        while ((await drain(name)) === 5000);
      }
      if (isFinal(record.status)) break;
      await sleep(100);
    }
    // The last lines of each job (a job's log is flushed before its state changes).
    for (const name of record.jobs.keys()) while ((await drain(name)) === 5000);
    opts.signal?.removeEventListener('abort', cancel);

    err.write('\n');
    for (const [name, j] of record.jobs) {
      const mark = j.status === 'success' ? '✔' : j.status === 'skipped' ? '-' : '✘';
      const secs =
        j.started_at && j.finished_at
          ? ` ${((Date.parse(j.finished_at) - Date.parse(j.started_at)) / 1000).toFixed(1)} s`
          : '';
      err.write(`${mark} ${name.padEnd(width)} ${j.status}${secs}${j.reason ? `  ${j.reason}` : ''}\n`);
    }
    err.write(`${def.name}: ${record.status}${record.reason ? ` (${record.reason})` : ''}\n`);
    return record.status === 'success' ? 0 : 1;
  } finally {
    for (const fn of closers.reverse()) await fn().catch(() => {});
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}

/** The login of whoever runs `pushci run` (null where the system has no name for the uid). */
function localUser(): string | null {
  try {
    return userInfo().username;
  } catch {
    return null;
  }
}
