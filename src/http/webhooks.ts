import type { Context } from 'koa';
import type { Redis } from 'ioredis';
import { createBuildsForPushes, type CreateBuildsDeps, type CreatedBuild } from '../builds/create-builds.ts';
import { ConflictError, NotFoundError, PushciError, StoreUnavailableError } from '../errors.ts';
import type { Forge } from '../forges/forge.ts';
import { matchPipelines } from '../pipelines/match.ts';
import type { PipelineSet } from '../pipelines/pipeline-set.ts';
import type { Dedupe } from '../queue/dedupe.ts';
import { readRawBody } from './raw-body.ts';

export interface WebhookDeps extends CreateBuildsDeps {
  forges: ReadonlyMap<string, Forge>;
  pipelines: () => PipelineSet;
  redis: Redis;
  dedupe: Dedupe;
  maxBodyBytes: number;
  publicUrl: string;
}

/** How long a receipt waits for another instance that is storing the same delivery. */
const IN_FLIGHT_WAIT_MS = 3000;

/**
 * `POST /webhooks/:forge`: verify the raw bytes, then parse, match and store. A 2xx is sent only once
 * the builds are in Redis; if Redis cannot take them the answer is 503 and the forge can redeliver.
 * A delivery id seen before creates nothing and is answered with the builds of its first receipt.
 */
export function webhookHandler(deps: WebhookDeps) {
  const view = (b: { id: string; pipeline: string; status: string; number?: number }) => ({
    ...b,
    url: `${deps.publicUrl}/api/builds/${b.id}`,
  });
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
    const log = ctx.state.log.child({ forge: forge.name, delivery_id: result.deliveryId });
    if (result.kind === 'ping') {
      ctx.status = 200;
      ctx.body = { builds: [], reason: 'pong: the hook reaches pushci and its secret is right' };
      return;
    }
    if (result.kind === 'ignored') {
      ctx.status = 202;
      ctx.body = { builds: [], reason: `ignored: ${result.event}` };
      log.info({ event: result.event }, 'event ignored');
      return;
    }
    const live = result.events.filter((e) => !e.deleted);
    const pushes = live
      .map((event) => ({ event, pipelines: matchPipelines(deps.pipelines().pipelines, event) }))
      .filter((p) => p.pipelines.length > 0);
    if (pushes.length === 0) {
      const first = result.events[0]!;
      ctx.status = 200;
      ctx.body = {
        builds: [],
        reason:
          live.length === 0
            ? `${first.repository} ${first.ref} was deleted; deletions start nothing`
            : `no pipeline matches ${forge.name} ${first.repository} ${live.map((e) => e.ref).join(', ')}`,
      };
      log.info({ repository: first.repository, refs: live.map((e) => e.ref) }, 'push matched no pipeline');
      return;
    }
    if (deps.redis.status !== 'ready')
      throw new StoreUnavailableError('Redis is not reachable; nothing was stored, redeliver later');

    const key = deps.dedupe.key(forge.name, result.deliveryId);
    let created: CreatedBuild[];
    try {
      let claim = await deps.dedupe.claim(key);
      if (claim.state === 'in-flight') claim = await deps.dedupe.waitFor(key, IN_FLIGHT_WAIT_MS);
      if (claim.state === 'in-flight')
        throw new ConflictError(
          'this delivery is being stored by another pushci instance; its answer is the one that counts',
        );
      if (claim.state === 'duplicate') {
        ctx.status = 200;
        ctx.body = {
          builds: claim.seen.builds.map(view),
          duplicate: true,
          reason: `delivery ${result.deliveryId} was already received at ${claim.seen.at}; these are its builds`,
        };
        log.info('duplicate delivery');
        return;
      }
      try {
        created = await createBuildsForPushes({ ...deps, log }, pushes, 'push', (multi, builds) =>
          deps.dedupe.record(multi, key, {
            builds: builds.map((b) => ({ id: b.meta.id, pipeline: b.meta.pipeline, status: b.status })),
            at: new Date().toISOString(),
          }),
        );
      } catch (err) {
        await deps.dedupe.release(key);
        throw err;
      }
    } catch (err) {
      if (err instanceof PushciError) throw err;
      log.error({ err: (err as Error).message }, 'could not store builds');
      throw new StoreUnavailableError(
        `could not store the build (${(err as Error).message}); redeliver later`,
      );
    }
    ctx.status = 202;
    ctx.body = { builds: created.map(view) };
  };
}
