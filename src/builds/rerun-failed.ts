import type { Redis } from 'ioredis';
import { ConflictError, NotFoundError } from '../errors.ts';
import { isFinal, type JobStatus } from '../model.ts';
import type { JobState } from '../queue/build-record.ts';
import { rerunEvent } from './rerun-build.ts';
import { asRecord, newBuild, type CreateBuildsDeps, type CreatedBuild } from './create-builds.ts';

const FAILED: ReadonlySet<JobStatus> = new Set(['failure', 'error', 'canceled']);

/** The jobs a re-run of failed jobs runs: the failed, errored and canceled ones and all that need them. */
export function jobsToRerun(
  jobs: ReadonlyArray<{ name: string; needs: readonly string[]; status: JobStatus }>,
): Set<string> {
  const again = new Set(jobs.filter((j) => FAILED.has(j.status)).map((j) => j.name));
  for (let grew = true; grew;) {
    grew = false;
    for (const j of jobs)
      if (!again.has(j.name) && j.needs.some((n) => again.has(n))) {
        again.add(j.name);
        grew = true;
      }
  }
  return again;
}

/**
 * A new attempt of a finished build's failed jobs, on the same commit with the same pipeline version:
 * the failed, errored and canceled jobs and every job that needs them run again; the others keep their
 * result, details (outputs included) and log from the build it re-runs.
 */
export async function rerunFailed(
  deps: CreateBuildsDeps & { redis: Redis },
  id: string,
): Promise<CreatedBuild> {
  const record = await deps.store.get(id);
  if (!record) throw new NotFoundError(`no build ${id}`);
  if (!isFinal(record.status))
    throw new ConflictError(`build ${id} is still ${record.status}; cancel it first or wait for it`);
  const jobs = record.def.jobs.map((d) => ({ ...d, status: record.jobs.get(d.name)!.status }));
  const again = jobsToRerun(jobs);
  if (again.size === 0)
    throw new ConflictError(`build ${id} has no failed or canceled job; re-run all of it instead`);
  const m = record.meta;
  const event = rerunEvent(m);
  const b = newBuild(record.def, event, null, new Date().toISOString());
  const jobStatus: Record<string, JobStatus> = {};
  const jobState: Record<string, JobState> = {};
  for (const j of jobs) {
    if (again.has(j.name)) {
      jobStatus[j.name] = 'pending';
      continue;
    }
    const { status, ...state } = record.jobs.get(j.name)!;
    jobStatus[j.name] = status;
    jobState[j.name] = {
      ...state,
      reason: `kept from #${record.number} (${m.id}): it ${status === 'success' ? 'succeeded' : `was ${status}`} there`,
    };
  }
  // Roots that run again start with the build (when it has no concurrency group to wait for); jobs whose
  // needs were all kept are moved on by the lifecycle once the build is stored.
  const queueNow =
    b.group === null ? jobs.filter((j) => again.has(j.name) && j.needs.length === 0).map((j) => j.name) : [];
  for (const name of queueNow) jobStatus[name] = 'queued';
  const build = { ...b, jobStatus, jobState, queueNow };
  // The kept jobs' logs come along (server-side copies), so the new build shows every job's log.
  for (const name of Object.keys(jobState)) {
    await deps.redis
      .copy(deps.store.keys.log(m.id, name), deps.store.keys.log(build.meta.id, name))
      .catch(() => 0);
  }
  const stored = await deps.store.create([build]);
  if (!stored.created) throw new ConflictError(`build ${id} could not be re-run`);
  const created = asRecord(build, stored.numbers[0]!);
  for (const [name, state] of Object.entries(jobState)) Object.assign(created.jobs.get(name)!, state);
  await deps.emitter.emit('build.queued', created, undefined, { live: false });
  if (created.group !== null) await deps.lifecycle.admit(created);
  else await deps.lifecycle.startRoots(created);
  deps.log.info(
    { build_id: created.meta.id, pipeline: m.pipeline, rerun_of: m.id, jobs: [...again] },
    'failed jobs re-run',
  );
  return { id: created.meta.id, pipeline: m.pipeline, number: created.number, status: 'queued' };
}
