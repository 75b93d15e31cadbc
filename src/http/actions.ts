import type { Context } from 'koa';
import type { Config } from '../config.ts';
import { cloneUrlFor } from '../builds/clone-url.ts';
import type { CreateBuildsDeps, CreatedBuild } from '../builds/create-builds.ts';
import { rerunBuild } from '../builds/rerun-build.ts';
import { rerunFailed } from '../builds/rerun-failed.ts';
import type { Redis } from 'ioredis';
import { triggerBuild, type TriggerRequest } from '../builds/trigger-build.ts';
import { findPipeline } from '../builds/find-pipeline.ts';
import { approveBuild } from '../builds/approve-build.ts';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.ts';
import type { PipelineSet } from '../pipelines/pipeline-set.ts';
import { gitEnv, lsRemote } from '../runner/git.ts';
import { readJsonBody } from './json-body.ts';

export interface ActionDeps extends CreateBuildsDeps {
  pipelines: () => PipelineSet;
  publicUrl: string;
  config: Readonly<Config>;
}

function created(deps: ActionDeps, b: CreatedBuild) {
  return {
    builds: [
      {
        id: b.id,
        pipeline: b.pipeline,
        number: b.number,
        status: b.status,
        url: `${deps.publicUrl}/api/builds/${b.id}`,
      },
    ],
  };
}

/** `POST /api/builds/:id/cancel` */
export function cancelHandler(deps: ActionDeps) {
  return async (ctx: Context) => {
    const id = ctx.params.id!;
    const record = await deps.store.get(id);
    if (!record) throw new NotFoundError(`no build ${id}`);
    const ok = await deps.lifecycle.cancel(id, 'canceled through the API', undefined, { force: true });
    if (!ok) throw new ConflictError(`build ${id} has already finished (${record.status})`);
    ctx.status = 202;
    // `forced`: it was cancelled already, so this one ends what still ran after the first (always()).
    ctx.body = { id, canceling: true, forced: record.cancelReason !== null };
  };
}

/** `POST /api/builds/:id/approve` with `{"by": "name"}`: lets a fork's pull request build run. */
export function approveHandler(deps: ActionDeps) {
  return async (ctx: Context) => {
    const body = await readJsonBody(ctx);
    const by = body.by === undefined ? 'api' : body.by;
    if (typeof by !== 'string') throw new InvalidRequestError('"by" must be a string');
    const r = await approveBuild(deps, ctx.params.id!, by);
    ctx.status = 202;
    ctx.body = { id: r.meta.id, status: r.status, approval: r.approval };
  };
}

/** `POST /api/builds/:id/rerun` */
export function rerunHandler(deps: ActionDeps) {
  return async (ctx: Context) => {
    const b = await rerunBuild(deps, ctx.params.id!, deps.pipelines().pipelines);
    ctx.status = 202;
    ctx.body = created(deps, b);
  };
}

/** `POST /api/builds/:id/rerun-failed`: the failed jobs again (and those that need them), the rest kept. */
export function rerunFailedHandler(deps: ActionDeps & { redis: Redis }) {
  return async (ctx: Context) => {
    const b = await rerunFailed(deps, ctx.params.id!);
    ctx.status = 202;
    ctx.body = created(deps, b);
  };
}

/** `POST /api/pipelines/:name/trigger` (`:name` or the pipeline's file, findPipeline) with `{"branch"|"tag", "sha"?, "repository"?}` */
export function triggerHandler(deps: ActionDeps) {
  return async (ctx: Context) => {
    const body = (await readJsonBody(ctx)) as TriggerRequest;
    const set = deps.pipelines();
    const pipeline = findPipeline(set.pipelines, ctx.params.name!, set.files);
    const b = await triggerBuild(deps, pipeline, body, (def, forge, repository, ref) =>
      lsRemote(cloneUrlFor(def, forge, repository, deps.config), ref, gitEnv(deps.config.env)),
    );
    ctx.status = 202;
    ctx.body = created(deps, b);
  };
}
