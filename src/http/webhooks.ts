import { hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log.ts';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import {
  createBuildsForPushes,
  type CreateBuildsDeps,
  type DeliveryDedupe,
  type PushesResult,
  type PushToBuild,
} from '../builds/create-builds.ts';
import { resolvePullRequestHead } from '../builds/resolve-pull-request-head.ts';
import { NotFoundError, PushciError, StoreUnavailableError } from '../errors.ts';
import type { PullRequestEvent } from '../core/event.ts';
import type { Inbound } from '../forges/forge.ts';
import { explainMatch } from '../pipelines/explain.ts';
import type { PipelineSet } from '../pipelines/pipeline-set.ts';
import type { WebhookRecord } from '../queue/webhook-log.ts';
import type { IntakeBudget } from './intake-budget.ts';
import { readRawBody } from './raw-body.ts';

export interface WebhookDeps extends CreateBuildsDeps {
  forges: ReadonlyMap<string, Inbound>;
  pipelines: () => PipelineSet;
  redis: Redis;
  dedupeWindowMs: number;
  /** How long a verified body is remembered against replays under a new delivery id (0: not at all). */
  replayWindowMs: number;
  maxBodyBytes: number;
  /** Caps the bytes of bodies read but not yet verified, across all requests. */
  intake: IntakeBudget;
  publicUrl: string;
  config: Readonly<Config>;
}

/** What a webhook is answered with when nothing went wrong (errors are thrown as `PushciError`s). */
export interface WebhookAnswer {
  status: 200 | 202;
  body: Record<string, unknown>;
}

/** What the receiver learnt about a webhook, for the "why" view; filled as far as the webhook got. */
export type WebhookTrace = Partial<
  Pick<WebhookRecord, 'result' | 'repository' | 'refs' | 'pipelines' | 'delivery_id'>
>;

/**
 * `POST /webhooks/:forge`: verify the raw bytes, then parse, match and store. A 2xx is answered only
 * once the builds are in Redis; if Redis cannot take them the answer is 503 and the forge can redeliver.
 * A delivery id seen before creates nothing and is answered with the builds of its first receipt.
 * `log` makes the request's logger on first use (most webhooks log nothing at the default level).
 */
export function webhookReceiver(deps: WebhookDeps) {
  const view = (b: { id: string; pipeline: string; status: string; number?: number }) => ({
    ...b,
    url: `${deps.publicUrl}/api/builds/${b.id}`,
  });
  return async (
    forgeName: string,
    req: IncomingMessage,
    log: () => Logger,
    trace: WebhookTrace = {},
  ): Promise<WebhookAnswer> => {
    const forge = deps.forges.get(forgeName);
    if (!forge)
      throw new NotFoundError(`no forge "${forgeName}"; use one of: ${[...deps.forges.keys()].join(', ')}`);
    const lease = deps.intake.lease();
    let inbound;
    try {
      inbound = { headers: req.headers, body: await readRawBody(req, deps.maxBodyBytes, lease) };
      await forge.verify(inbound);
    } finally {
      // Verified (or refused): from here on only authentic bodies are held.
      lease.release();
    }
    const result = forge.parse(inbound);
    const at = { forge: forge.name, delivery_id: result.deliveryId };
    trace.delivery_id = result.deliveryId;
    if (result.kind === 'ping') {
      trace.result = 'ping';
      return {
        status: 200,
        body: { builds: [], reason: 'pong: the hook reaches pushci and its secret is right' },
      };
    }
    if (result.kind === 'ignored') {
      trace.result = 'ignored';
      log().info({ ...at, event: result.event }, 'event ignored');
      return {
        status: 202,
        body: { builds: [], reason: `ignored: ${result.event}${result.reason ? ` (${result.reason})` : ''}` },
      };
    }
    const live = result.events.filter((e) => e.kind === 'pull_request' || !e.deleted);
    trace.repository = result.events[0]?.repository ?? null;
    trace.refs = result.events.map((e) => e.ref);
    // Matched once per event: the "why" record's explanation says which pipelines take it
    // (explainMatch agrees with matchPipelines; a test holds them together).
    const { pipelines, files } = deps.pipelines();
    const explained = result.events.map((event) => ({ event, why: explainMatch(pipelines, event) }));
    trace.pipelines = explained.flatMap((e) => e.why);
    trace.result = live.length === 0 ? 'deleted' : 'no_match';
    const matched = explained
      .filter(({ event }) => event.kind === 'pull_request' || !event.deleted)
      .map(({ event, why }) => ({ event, pipelines: pipelines.filter((_, i) => why[i]!.matched) }))
      .filter((p) => p.pipelines.length > 0);
    // Bitbucket names a pull request's head by a prefix: resolved before anything is stored.
    // Bitbucket also sends `pullrequest:updated` for edits, and does not say whether commits came: such
    // a delivery is de-duplicated by the head and target it names, so a pull request's head builds once
    // per target branch.
    const pushes: PushToBuild[] = [];
    const unresolved: string[] = [];
    let headKey: { key: string; pr: PullRequestEvent } | null = null;
    for (const p of matched) {
      if (p.event.kind !== 'pull_request' || !p.event.abbreviated) pushes.push(p);
      else {
        const r = await resolvePullRequestHead(p.event, p.pipelines[0]!, deps.config);
        if ('skipped' in r) unresolved.push(r.skipped);
        else {
          pushes.push({ event: r.event, pipelines: p.pipelines });
          const pr = r.event;
          // The target is part of it: a pull request moved to another branch builds again.
          const { number, target_branch } = pr.pullRequest;
          headKey = { key: `pull-request:${pr.repository}#${number}@${pr.after}→${target_branch}`, pr };
        }
      }
    }
    if (pushes.length === 0 && unresolved.length > 0) {
      trace.result = 'ignored';
      log().info({ ...at, reason: unresolved.join('; ') }, 'pull request head not built');
      return { status: 200, body: { builds: [], reason: unresolved.join('; ') } };
    }
    if (pushes.length === 0) {
      const first = result.events[0]!;
      log().info(
        { ...at, repository: first.repository, refs: live.map((e) => e.ref) },
        'push matched no pipeline',
      );
      return {
        status: 200,
        body: {
          builds: [],
          reason:
            live.length === 0
              ? `${first.repository} ${first.ref} was deleted; deletions start nothing`
              : `no pipeline matches ${forge.name} ${first.repository} ${live.map((e) => e.ref).join(', ')}`,
        },
      };
    }
    if (deps.redis.status !== 'ready')
      throw new StoreUnavailableError('Redis is not reachable; nothing was stored, redeliver later');

    // The signature covers only the body: where every push's body is its own, the same bytes under a
    // fresh delivery id are a replay (Inbound.uniqueBodies says why other forges are not asked).
    const dedupe: DeliveryDedupe = {
      key: deps.store.keys.seen(forge.name, headKey?.key ?? result.deliveryId),
      ttlMs: deps.dedupeWindowMs,
    };
    if (deps.replayWindowMs > 0 && forge.uniqueBodies) {
      const digest = forge.bodyDigest?.(inbound) ?? hash('sha256', inbound.body);
      const repository = pushes[0]!.event.repository;
      dedupe.body = {
        key: deps.store.keys.seenBody(forge.name, repository, digest),
        ttlMs: deps.replayWindowMs,
      };
    }
    let stored: PushesResult;
    try {
      stored = await createBuildsForPushes(deps, pushes, dedupe);
    } catch (err) {
      if (err instanceof PushciError) throw err;
      log().error({ ...at, err: (err as Error).message }, 'could not store builds');
      throw new StoreUnavailableError(
        `could not store the build (${(err as Error).message}); redeliver later`,
      );
    }
    const builds: Array<{ id: string; pipeline: string; number?: number }> = stored.duplicate
      ? stored.seen.builds
      : stored.builds;
    for (const p of trace.pipelines) {
      const b = builds.find((x) => x.pipeline === p.pipeline);
      if (b && p.matched) Object.assign(p, { build_id: b.id, ...(b.number ? { number: b.number } : {}) });
    }
    trace.result = stored.duplicate ? 'duplicate' : 'builds';
    if (stored.duplicate) {
      log().info(at, stored.replay ? 'replayed body' : 'duplicate delivery');
      // The first receipt's builds as they are now, not as they were then (a forge's redelivery an
      // hour later is told the build failed, not that it is queued).
      const now = await deps.store.statuses(stored.seen.builds.map((b) => b.id)).catch(() => []);
      return {
        status: 200,
        body: {
          builds: stored.seen.builds.map((b, i) => {
            const current = now[i];
            if (!current) return view(b);
            const number = Number.isFinite(current.number) ? { number: current.number } : {};
            return view({ ...b, status: current.status, ...number });
          }),
          duplicate: true,
          reason: stored.replay
            ? `this exact body (signed for ${pushes[0]!.event.repository}) was already received at ${stored.seen.at}; a delivery resent with a new delivery id starts nothing; these are its builds`
            : headKey
              ? `commit ${headKey.pr.after} of pull request #${headKey.pr.pullRequest.number} into ${headKey.pr.pullRequest.target_branch} was already received at ${stored.seen.at}; these are its builds`
              : `delivery ${result.deliveryId} was already received at ${stored.seen.at}; these are its builds`,
        },
      };
    }
    // A build of a file that is broken now runs the file's last good version: the forge's delivery log
    // says so, next to the builds.
    const built = new Set(stored.builds.map((b) => b.pipeline));
    const warnings = files
      .filter((f) => f.state === 'last-good' && f.pipeline !== null && built.has(f.pipeline))
      .map(
        (f) =>
          `${f.name} has problems now (pushci validate lists them); pipeline ${f.pipeline} builds with its last good version, in force since ${f.since}`,
      );
    return {
      status: 202,
      body: { builds: stored.builds.map(view), ...(warnings.length > 0 ? { warnings } : {}) },
    };
  };
}
