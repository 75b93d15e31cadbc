import type { Logger } from '../log.ts';
import { inputsOf, pullRequestOf, type CiEvent } from '../core/event.ts';
import type { JobStatus } from '../model.ts';
import type { Emitter } from '../notify/emit.ts';
import type { ForkPolicy, Pipeline } from '../pipelines/pipeline.ts';
import { skipMarker } from '../pipelines/match.ts';
import type { BuildMeta, BuildRecord, NewBuild } from '../queue/build-record.ts';
import type { BuildStore } from '../queue/store.ts';
import { renderTemplate, hasExpression } from '../pipelines/expr/template.ts';
import { githubContext } from './github-context.ts';
import { newBuildId } from './ids.ts';
import type { Lifecycle } from './lifecycle.ts';
import { inputsContext } from '../pipelines/inputs.ts';

export interface CreateBuildsDeps {
  store: BuildStore;
  emitter: Emitter;
  lifecycle: Lifecycle;
  log: Logger;
  /** What a fork's pull request does where its pipeline does not say (PUSHCI_FORK_PULL_REQUESTS). */
  forkPullRequests?: ForkPolicy;
}

export interface CreatedBuild {
  id: string;
  pipeline: string;
  number: number;
  status: 'queued' | 'skipped' | 'pending-approval';
}

/** A build to store: its record and the jobs that start at once. */
export function newBuild(
  def: Pipeline,
  event: CiEvent,
  marker: string | null,
  created_at: string,
  forkDefault: ForkPolicy = 'approve',
): NewBuild {
  // Builds in a concurrency group are admitted after they are stored: they may have to wait.
  // A pull request's builds always share a group (the pipeline and the pull request), so a new push to
  // it cancels the build of the old head: that commit is no longer what would merge.
  const pr = pullRequestOf(event);
  const id = newBuildId();
  const meta: BuildMeta = {
    id,
    pipeline: def.name,
    forge: event.forge,
    repository: event.repository,
    ref: event.ref,
    branch: event.branch ?? null,
    tag: event.tag ?? null,
    sha: event.after,
    before: event.before,
    message: event.headMessage,
    pusher: event.pusher,
    delivery_id: event.deliveryId,
    event: event.kind,
    rerun_of: event.kind === 'rerun' ? event.rerunOf : null,
    original_event: event.kind === 'rerun' ? event.original : event.kind,
    pull_request: pullRequestOf(event),
    cron: event.kind === 'schedule' ? event.cron : null,
    inputs: inputsOf(event),
    created_at,
  };
  const group = marker
    ? null
    : def.concurrency
      ? concurrencyGroup(def, meta)
      : pr
        ? `${def.name}/pull/${pr.number}`
        : null;
  // A fork's pull request (not a re-run: whoever asks for one has approved it) follows the trust policy.
  const policy = event.kind === 'pull_request' && pr?.fork ? (def.forks ?? forkDefault) : 'run';
  const skip =
    marker !== null
      ? `the head commit message contains ${marker}`
      : policy === 'never'
        ? `pull request #${pr!.number} comes from a fork (${pr!.head_repository}), and this pipeline does not build forks (pull-requests.forks: never)`
        : null;
  const hold = skip === null && policy === 'approve';
  const jobStatus: Record<string, JobStatus> = {};
  const queueNow: string[] = [];
  for (const j of def.jobs) {
    const now = !skip && !hold && j.needs.length === 0 && group === null;
    jobStatus[j.name] = skip ? 'skipped' : now ? 'queued' : 'pending';
    if (now) queueNow.push(j.name);
  }
  const status = skip ? 'skipped' : hold ? 'pending-approval' : 'queued';
  return {
    meta,
    def,
    status,
    reason:
      skip ??
      (hold
        ? `waiting for approval: pull request #${pr!.number} comes from a fork (${pr!.head_repository})`
        : null),
    jobStatus,
    group: skip ? null : group,
    queueNow,
    // A skipped build is announced as completed, after it is stored.
    announce: skip
      ? null
      : `${JSON.stringify({ type: 'build.queued', id, pipeline: def.name, status }).slice(0, -1)},"number":`,
  };
}

/** The record a stored new build reads back as. */
export function asRecord(b: NewBuild, number: number): BuildRecord {
  const jobs = new Map(
    b.def.jobs.map((j) => [
      j.name,
      {
        status: b.jobStatus[j.name]!,
        attempt: 0,
        exit_code: null,
        reason: null,
        started_at: null,
        finished_at: null,
      },
    ]),
  );
  return {
    meta: b.meta,
    number,
    def: b.def,
    status: b.status,
    reason: b.reason,
    started_at: null,
    finished_at: b.status === 'skipped' ? b.meta.created_at : null,
    jobs,
    notified: false,
    cancelReason: null,
    supersededBy: null,
    group: b.group,
    approval: null,
  };
}

export interface PushToBuild {
  event: CiEvent;
  pipelines: readonly Pipeline[];
}

/**
 * Stores one build per matched pipeline and queues the jobs that need nothing. Returns only after
 * Redis has both, so the receiver's 2xx means the builds are durable. A `[skip ci]` marker stores the
 * build as skipped and still sends `build.completed`, so required statuses are never left pending.
 */
export async function createBuilds(
  deps: CreateBuildsDeps,
  event: CiEvent,
  pipelines: readonly Pipeline[],
): Promise<CreatedBuild[]> {
  const r = await createBuildsForPushes(deps, [{ event, pipelines }]);
  return r.duplicate ? [] : r.builds;
}

/** The record a delivery leaves behind: what its first receipt created. */
export interface SeenDelivery {
  builds: Array<{ id: string; pipeline: string; status: string }>;
  at: string;
}

/** A delivery's seen key and window, and optionally its verified body's (a replay under a new id). */
export interface DeliveryDedupe {
  key: string;
  ttlMs: number;
  body?: { key: string; ttlMs: number };
}

/** `replay`: the delivery id was new but its exact body was seen before (see `Keys.seenBody`). */
export type PushesResult =
  { duplicate: false; builds: CreatedBuild[] } | { duplicate: true; seen: SeenDelivery; replay: boolean };

/**
 * The same for every push of one delivery (Bitbucket sends several refs at once). With `dedupe`, the
 * delivery id is checked and recorded in the same atomic step that stores the builds: a delivery seen
 * before creates nothing and returns what its first receipt created.
 */
export async function createBuildsForPushes(
  deps: CreateBuildsDeps,
  pushes: readonly PushToBuild[],
  dedupe?: DeliveryDedupe,
): Promise<PushesResult> {
  const created_at = new Date().toISOString();
  const builds = pushes.flatMap(({ event, pipelines }) => {
    // A marker in the pushed head commit skips what the push starts; someone asking for a build means it.
    const marker = event.kind === 'push' || event.kind === 'tag' ? skipMarker(event.headMessage) : null;
    return pipelines.map((def) => newBuild(def, event, marker, created_at, deps.forkPullRequests));
  });
  const seen: SeenDelivery = {
    builds: builds.map((b) => ({ id: b.meta.id, pipeline: b.meta.pipeline, status: b.status })),
    at: created_at,
  };
  const stored = await deps.store.create(
    builds,
    dedupe ? { ...dedupe, value: JSON.stringify(seen) } : undefined,
  );
  if (!stored.created)
    return { duplicate: true, seen: JSON.parse(stored.seen) as SeenDelivery, replay: stored.replay };
  // Builds without a group have their root jobs queued and their build.queued published by now.
  const records = builds.map((b, i) => asRecord(b, stored.numbers[i]!));
  await Promise.all(
    records.map((r) =>
      r.status === 'skipped'
        ? deps.emitter.emit('build.completed', r)
        : deps.emitter.emit('build.queued', r, undefined, { live: false }),
    ),
  );
  for (const r of records) {
    if (r.status !== 'skipped') continue;
    await deps.store.markNotified(r.meta.id);
    await deps.store.recordOutcome(r);
  }
  for (const r of records) if (r.group !== null && r.status === 'queued') await deps.lifecycle.admit(r);
  // A build waiting for approval still supersedes the older builds of its pull request.
  for (const r of records)
    if (r.group !== null && r.status === 'pending-approval') await deps.lifecycle.admit(r, { hold: true });
  for (const r of records) {
    deps.log.info(
      { build_id: r.meta.id, pipeline: r.meta.pipeline, delivery_id: r.meta.delivery_id, status: r.status },
      'build created',
    );
  }
  return {
    duplicate: false,
    builds: records.map((r) => ({
      id: r.meta.id,
      pipeline: r.meta.pipeline,
      number: r.number,
      status: r.status as CreatedBuild['status'],
    })),
  };
}

/**
 * The concurrency group of a build: as written, `${{ }}` evaluated with this build's `github` and
 * `inputs` (GitHub's `${{ github.workflow }}-${{ github.ref }}` idiom), or the pipeline and ref.
 */
function concurrencyGroup(def: Pipeline, meta: BuildMeta): string {
  const group = def.concurrency?.group ?? null;
  if (group === null) return `${def.name}/${meta.ref}`;
  if (!hasExpression(group)) return group;
  try {
    const value = renderTemplate(group, {
      contexts: {
        github: githubContext({ meta, number: 0, def }, '', '', 1),
        inputs: inputsContext(def.inputs ?? [], meta.inputs ?? {}),
      },
    });
    return value || `${def.name}/${meta.ref}`;
  } catch {
    return `${def.name}/${meta.ref}`;
  }
}
