import { hostname } from 'node:os';
import { asyncFileWork } from './files/file-work.ts';
import { pullRequestSource } from '../forges/pull-request-source.ts';
import { hasPathFilter, pathsAllow } from '../pipelines/match.ts';
import type { BuildRecord } from '../queue/build-record.ts';
import { changedFiles, checkout, checkoutSkeleton, fetchBranchHead } from './checkout.ts';
import type { JobPlan } from './job-plan.ts';
import type { JobLog } from './job-log.ts';
import type { JobTimings } from './job-timings.ts';
import { workerLabels } from './labels.ts';
import type { RunJobDeps, RunJobOutcome } from './run-job.ts';

/** More changed files than this count as "unknown", which never blocks a build (see pathsAllow). */
export const CHANGED_FILES_CAP = 3000;

export interface CheckoutJobOptions {
  deps: RunJobDeps;
  plan: JobPlan;
  record: BuildRecord;
  jobName: string;
  attempt: number;
  log: JobLog;
  /** git's environment (gitEnv). */
  git: Record<string, string>;
  stop: AbortSignal;
  timings: JobTimings;
}

/**
 * The job's first log lines, its folders and the checkout of its commit; then its path filters. Null:
 * go on with the steps; else how the job (or, for path filters, the whole build) ends.
 */
export async function checkoutJob(o: CheckoutJobOptions): Promise<RunJobOutcome | null> {
  const { deps, plan, record, jobName, attempt, log, git, stop, timings } = o;
  const { config, backend } = deps;
  const { dirs, fork, asked, visible, cloneUrl } = plan;
  const workspace = dirs.src;
  log.system(
    `pushci: job ${jobName}, attempt ${attempt}, on ${hostname()} (labels: ${workerLabels(config.runnerLabels ?? []).join(', ')})`,
  );
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
  const where = { dataDir: config.dataDir, cloneUrl, sha: record.meta.sha, workspace };
  // The job's folders and its checkout's `.git` in one handoff to the file thread.
  await (deps.files ?? asyncFileWork).apply([
    ...[dirs.root, dirs.src, dirs.scripts, dirs.tmp, dirs.home].map((path) => ({
      op: 'mkdir' as const,
      path,
      mode: 0o700,
    })),
    ...checkoutSkeleton(where),
  ]);
  // Path filters apply to what a push or pull request changed; a manual, scheduled or re-run build means it.
  const filters =
    record.meta.event === 'push' || record.meta.event === 'tag'
      ? record.def.trigger
      : record.meta.event === 'pull_request'
        ? (record.def.pullRequest ?? null)
        : null;
  const pull = pr ? pullRequestSource(record.meta.forge, pr, cloneUrl, config) : null;
  if (pr && !pull) {
    const reason = `pull request #${pr.number}: its head repository ${pr.head_repository} cannot be fetched (a deleted fork, or a name pushci does not build a clone URL from)`;
    log.system(`pushci: ${reason}`);
    return { status: 'error', exitCode: null, reason };
  }
  timings.lap('setup');
  await checkout({
    ...(deps.knownCommits ? { known: deps.knownCommits } : {}),
    ...(deps.serialize ? { serialize: deps.serialize } : {}),
    ...(backend.spawn ? { spawn: backend.spawn } : {}),
    ...(deps.files ? { files: deps.files } : {}),
    ...(pull ? { pull } : {}),
    ...where,
    skeletonWritten: true,
    alsoFetch: hasPathFilter(filters) && !/^0+$/.test(record.meta.before) ? [record.meta.before] : [],
    env: git,
    signal: stop,
  });
  if (filters && hasPathFilter(filters)) {
    // GitLab's merge request hook names no target commit: the target branch's head, fetched from the
    // pipeline's own clone URL, stands in for it (the change is then measured from the merge base).
    let before = record.meta.before;
    if (pr && /^0+$/.test(before)) {
      const target = await fetchBranchHead({
        dataDir: config.dataDir,
        cloneUrl,
        branch: pr.target_branch,
        env: git,
        signal: stop,
        ...(deps.serialize ? { serialize: deps.serialize } : {}),
      });
      if (target) before = target;
      else
        log.system(
          `pushci: the target branch ${pr.target_branch} could not be fetched; path filters judge the head commit's own files`,
        );
    }
    const files = await changedFiles(
      workspace,
      before,
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
  return null;
}
