import type { Config } from '../config.ts';
import type { JobResult } from '../builds/lifecycle.ts';
import { actionsCacheAt } from './actions-cache.ts';
import { actionsCacheDir } from './fetch-action.ts';
import { fetchJobActions, type JobActions } from './fetch-job-actions.ts';
import type { JobHolds } from './job-holds.ts';
import type { JobPlan } from './job-plan.ts';
import type { JobScope } from './job-scope.ts';
import type { JobTimings } from './job-timings.ts';

/**
 * Actions from other repositories, fetched by the worker before any step runs; a job whose actions
 * cannot be fetched fails before its first step, as GitHub's "Set up job" does.
 */
export async function setUpActions(a: {
  config: Readonly<Config>;
  plan: Pick<JobPlan, 'job' | 'dirs'>;
  scope: Pick<JobScope, 'log' | 'stop' | 'stopped'>;
  holds: Pick<JobHolds, 'actions'>;
  timings: JobTimings;
  realSrc: string;
  git: Record<string, string>;
}): Promise<JobActions | { end: JobResult }> {
  const { config, realSrc, git } = a;
  const uses = a.plan.job.steps.flatMap((s) => (s.uses !== undefined ? [s.uses] : []));
  const cache = actionsCacheAt(actionsCacheDir(config.dataDir), config.actionsCacheBytes);
  a.holds.actions = cache.holds();
  const actions = await fetchJobActions({
    config,
    uses,
    checkout: a.plan.dirs.src,
    realSrc,
    env: git,
    signal: a.scope.stop,
    cache,
    holds: a.holds.actions,
    say: (line) => a.scope.log.system(line),
  });
  if ('unfetched' in actions) {
    if (a.scope.stop.aborted) return { end: a.scope.stopped('while fetching actions') };
    const reason = `set up job: cannot fetch ${actions.unfetched.join('; ')}`;
    a.scope.log.system(`pushci: ${reason}; no step ran`);
    return { end: { status: 'failure', exitCode: null, reason } };
  }
  if (uses.length > 0) a.timings.lap('actions');
  return actions;
}
