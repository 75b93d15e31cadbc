import type { Context } from 'koa';
import type { Redis } from 'ioredis';
import { createBuilds, type CreateBuildsDeps } from '../builds/create-builds.ts';
import { NotFoundError, PushciError, StoreUnavailableError } from '../errors.ts';
import type { Forge } from '../forges/forge.ts';
import { matchPipelines } from '../pipelines/match.ts';
import type { PipelineSet } from '../pipelines/pipeline-set.ts';
import { readRawBody } from './raw-body.ts';

export interface WebhookDeps extends CreateBuildsDeps {
  forges: ReadonlyMap<string, Forge>;
  pipelines: () => PipelineSet;
  redis: Redis;
  maxBodyBytes: number;
  publicUrl: string;
}

/**
 * `POST /webhooks/:forge`: verify the raw bytes, then parse, match and store. A 2xx is sent only once
 * the builds are in Redis; if Redis cannot take them the answer is 503 and the forge can redeliver.
 */
export function webhookHandler(deps: WebhookDeps) {
  return async (ctx: Context) => {
    const forge = deps.forges.get(ctx.params.forge ?? '');
    if (!forge)
      throw new NotFoundError(
        `no forge "${ctx.params.forge}"; use one of: ${[...deps.forges.keys()].join(', ')}`,
      );
    const body = await readRawBody(ctx.req, deps.maxBodyBytes);
    const req = { headers: ctx.request.headers, body };
    await forge.verify(req);
    const result = forge.parse(req);
    const log = ctx.state.log.child({
      forge: forge.name,
      delivery_id: result.kind === 'push' ? result.event.deliveryId : result.deliveryId,
    });
    if (result.kind === 'ping') {
      ctx.status = 200;
      ctx.body = { ok: true, message: 'pong: the hook reaches pushci and its secret is right' };
      return;
    }
    if (result.kind === 'ignored') {
      ctx.status = 202;
      ctx.body = { builds: [], reason: `ignored: ${result.event}` };
      log.info({ event: result.event }, 'event ignored');
      return;
    }
    const event = result.event;
    const where = `${event.repository} ${event.ref}`;
    if (event.deleted) {
      ctx.status = 200;
      ctx.body = { builds: [], reason: `${where} was deleted; deletions start nothing` };
      return;
    }
    const matched = matchPipelines(deps.pipelines().pipelines, event);
    if (matched.length === 0) {
      ctx.status = 200;
      ctx.body = { builds: [], reason: `no pipeline matches ${event.forge} ${where}` };
      log.info({ repository: event.repository, ref: event.ref }, 'push matched no pipeline');
      return;
    }
    if (deps.redis.status !== 'ready')
      throw new StoreUnavailableError('Redis is not reachable; nothing was stored, redeliver later');
    let created;
    try {
      created = await createBuilds({ ...deps, log }, event, matched);
    } catch (err) {
      if (err instanceof PushciError) throw err;
      log.error({ err: (err as Error).message }, 'could not store builds');
      throw new StoreUnavailableError(
        `could not store the build (${(err as Error).message}); redeliver later`,
      );
    }
    ctx.status = 202;
    ctx.body = {
      builds: created.map((b) => ({
        id: b.id,
        pipeline: b.pipeline,
        number: b.number,
        status: b.status,
        url: `${deps.publicUrl}/api/builds/${b.id}`,
      })),
    };
  };
}
