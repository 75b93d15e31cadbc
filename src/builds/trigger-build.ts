import { COMMIT_SHA } from '../core/names.ts';
import { InvalidRequestError, NotFoundError } from '../errors.ts';
import type { ManualEvent } from '../core/event.ts';
import type { ForgeName } from '../model.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import { resolveInputs } from '../pipelines/inputs.ts';
import { repositoryMatches } from '../pipelines/match.ts';
import { checkWho } from './check-who.ts';
import { isRepositoryName } from './repository-name.ts';
import { createBuilds, type CreateBuildsDeps, type CreatedBuild } from './create-builds.ts';

export interface TriggerRequest {
  branch?: string;
  tag?: string;
  /** The commit; when absent, the current head of the branch or tag (asked from the repository). */
  sha?: string;
  /** Needed when the pipeline's `repository` is a glob. */
  repository?: string;
  /** Values for the pipeline's `on.workflow_dispatch.inputs`. */
  inputs?: unknown;
  /** Who starts it: the build's pusher, `github.actor` to its steps (none when absent). */
  by?: unknown;
}

const NAME = /^[A-Za-z0-9._/-]{1,255}$/;

/** A manual build of a pipeline, like `workflow_dispatch`: path filters and skip markers do not apply. */
export async function triggerBuild(
  deps: CreateBuildsDeps,
  pipeline: Pipeline | undefined,
  req: TriggerRequest,
  resolveRef: (def: Pipeline, forge: ForgeName, repository: string, ref: string) => Promise<string | null>,
): Promise<CreatedBuild> {
  if (!pipeline) throw new NotFoundError('no such pipeline');
  if ((req.branch === undefined) === (req.tag === undefined))
    throw new InvalidRequestError('give exactly one of "branch" and "tag"');
  const name = (req.branch ?? req.tag)!;
  if (typeof name !== 'string' || !NAME.test(name) || name.includes('..'))
    throw new InvalidRequestError('"branch"/"tag" is not a valid ref name');
  if (req.sha !== undefined && (typeof req.sha !== 'string' || !COMMIT_SHA.test(req.sha)))
    throw new InvalidRequestError('"sha" must be a full commit id');
  if (req.repository !== undefined) {
    // The build gets this pipeline's secrets: it may only build a repository the pipeline is for.
    if (!isRepositoryName(req.repository))
      throw new InvalidRequestError('"repository" must be a repository path like owner/name');
    if (!repositoryMatches(pipeline.repository, req.repository))
      throw new InvalidRequestError(
        `pipeline ${pipeline.name} is for ${pipeline.repository}, not ${req.repository}`,
      );
  }
  const by = req.by === undefined ? null : checkWho(req.by);
  const checked = resolveInputs(pipeline.inputs ?? [], req.inputs);
  if (checked.problems.length > 0) throw new InvalidRequestError(checked.problems.join('; '));
  const repository = req.repository ?? pipeline.repository;
  if (/[*?[{]/.test(repository))
    throw new InvalidRequestError(
      `pipeline ${pipeline.name} is for ${repository}, a pattern: say which repository to build ("repository": "owner/name"; pushci trigger --repo owner/name)`,
    );
  const forge: ForgeName = pipeline.forge ?? 'github';
  const ref = req.branch !== undefined ? `refs/heads/${name}` : `refs/tags/${name}`;
  const sha = req.sha ?? (await resolveRef(pipeline, forge, repository, ref));
  if (!sha) throw new InvalidRequestError(`${ref} does not exist in ${repository}`);
  const event: ManualEvent = {
    kind: 'manual',
    inputs: checked.inputs,
    forge,
    deliveryId: `manual:${Date.now()}`,
    repository,
    ref,
    ...(req.branch !== undefined ? { branch: name } : { tag: name }),
    before: '0'.repeat(sha.length),
    after: sha,
    headMessage: null,
    pusher: by,
  };
  const [created] = await createBuilds(deps, event, [pipeline]);
  return created!;
}
