import type { JobResult } from '../../builds/lifecycle.ts';
import type { Value } from '../../pipelines/expr/values.ts';
import type { JobRuntime } from '../backend.ts';
import type { JobHolds } from '../job-holds.ts';
import type { JobPlan } from '../job-plan.ts';
import type { JobScope } from '../job-scope.ts';
import { renderEnv } from '../step-env.ts';
import { prepareServices, ServiceError } from './start-services.ts';

/** The job's `services:`, started through its runtime; a service that does not start fails the job. */
export async function startJobServices(a: {
  plan: Pick<JobPlan, 'job' | 'dirs' | 'contexts' | 'server' | 'jobEnv' | 'base'>;
  scope: Pick<JobScope, 'log' | 'stop' | 'cut'>;
  holds: Pick<JobHolds, 'services'>;
  killGraceMs: number;
  rt: JobRuntime;
  realSrc: string;
}): Promise<{ env: Record<string, string> | undefined } | { end: JobResult }> {
  const { rt, realSrc } = a;
  const { job, dirs, contexts, server, jobEnv, base } = a.plan;
  if (!job.services?.length) return { env: undefined };
  try {
    const services = (a.holds.services = await prepareServices({
      runtime: rt,
      defs: job.services,
      scripts: dirs.scripts,
      cwd: realSrc,
      envFor: (def) => ({
        ...base,
        ...jobEnv,
        ...renderEnv(def.env, { contexts: { ...contexts, env: { ...server.env, ...jobEnv } } }),
      }),
      log: a.scope.log,
      killGraceMs: a.killGraceMs,
      signal: a.scope.stop,
      cut: a.scope.cut,
    }));
    (contexts.job as { [k: string]: Value }).services = services.context;
    await services.start();
    return { env: services.env };
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    a.scope.log.system(`pushci: ${err.message}`);
    return { end: { status: 'failure', exitCode: null, reason: err.message } };
  }
}
