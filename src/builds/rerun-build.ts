import { ConflictError, NotFoundError } from '../errors.ts';
import type { RerunEvent } from '../core/event.ts';
import { isFinal } from '../model.ts';
import type { BuildMeta } from '../queue/build-record.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import { createBuilds, type CreateBuildsDeps, type CreatedBuild } from './create-builds.ts';

/**
 * A new build of the same commit and ref. It uses the pipeline as it is now (so a fixed pipeline file
 * takes effect), or the original definition when the pipeline no longer exists.
 */
export async function rerunBuild(
  deps: CreateBuildsDeps,
  id: string,
  current: readonly Pipeline[],
): Promise<CreatedBuild> {
  const record = await deps.store.get(id);
  if (!record) throw new NotFoundError(`no build ${id}`);
  if (!isFinal(record.status)) {
    throw new ConflictError(`build ${id} is still ${record.status}; cancel it first or wait for it`);
  }
  const m = record.meta;
  const event = rerunEvent(m);
  const def = current.find((p) => p.name === m.pipeline) ?? record.def;
  const [created] = await createBuilds(deps, event, [def]);
  return created!;
}

/**
 * The event a re-run builds from: the original build's commit and ref, under a `rerun:` delivery id. It
 * keeps the pull request and the original event, so a re-run is trusted exactly as the build it repeats.
 */
export function rerunEvent(m: BuildMeta): RerunEvent {
  return {
    kind: 'rerun',
    rerunOf: m.id,
    original: m.original_event,
    pullRequest: m.pull_request,
    inputs: m.inputs,
    forge: m.forge,
    deliveryId: `rerun:${m.id}`,
    repository: m.repository,
    ref: m.ref,
    ...(m.branch !== null ? { branch: m.branch } : {}),
    ...(m.tag !== null ? { tag: m.tag } : {}),
    before: m.before,
    after: m.sha,
    headMessage: m.message,
    pusher: m.pusher,
  };
}
