import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ConfigError, ConflictError, InvalidRequestError, NotFoundError } from '../errors.ts';
import { matchesList, parseGlob, type Glob } from '../pipelines/glob.ts';
import type { Keys } from '../queue/keys.ts';
import { withScripts, type ScriptRedis } from '../queue/scripts.ts';
import type { EndpointCreate, EndpointPatch } from './endpoint-schema.ts';
import { SUBSCRIBABLE_EVENTS } from './endpoint-schema.ts';
import type { SecretBox } from './secret-box.ts';
import { checkSecret } from './sign.ts';

export type EndpointState = 'active' | 'paused' | 'disabled';

/** An endpoint registered through the API, as stored (its secrets stay in Redis, encrypted). */
export interface StoredEndpoint {
  id: string;
  url: string;
  description: string;
  events: string[];
  pipelines: string[];
  branches: string[];
  onPause: 'keep' | 'drop';
  state: EndpointState;
  stateReason: string | null;
  /** ms since the epoch. */
  stateAt: number | null;
  /** While set and in the future, messages are signed with the previous secret too. */
  previousUntil: number | null;
  createdAt: number;
  updatedAt: number;
  /** Start of the current run of failed attempts. */
  failingSince: number | null;
}

interface Filter {
  id: string;
  url: string;
  state: EndpointState;
  events: ReadonlySet<string>;
  pipelines: Glob[];
  branches: Glob[];
}

/** How long one process trusts its copy of the endpoint list before it asks Redis whether it changed. */
const RECHECK_MS = 25;

/** A fresh `whsec_` secret: 32 random bytes, as Standard Webhooks suggests (24 to 64). */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function checkOwnSecret(secret: string): void {
  try {
    checkSecret(secret);
  } catch {
    throw new InvalidRequestError('secret: must be a whsec_ secret (whsec_ and base64)');
  }
  const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64').length;
  if (bytes < 24 || bytes > 64)
    throw new InvalidRequestError(`secret: must hold 24 to 64 random bytes, this one holds ${bytes}`);
}

function parse(h: Record<string, string>): StoredEndpoint | null {
  if (!h.id) return null;
  const num = (v: string | undefined) => (v ? Number(v) : null);
  return {
    id: h.id,
    url: h.url ?? '',
    description: h.description ?? '',
    events: JSON.parse(h.events ?? '[]') as string[],
    pipelines: JSON.parse(h.pipelines ?? '[]') as string[],
    branches: JSON.parse(h.branches ?? '[]') as string[],
    onPause: h.on_pause === 'drop' ? 'drop' : 'keep',
    state: (h.state ?? 'active') as EndpointState,
    stateReason: h.state_reason || null,
    stateAt: num(h.state_at),
    previousUntil: num(h.prev_until),
    createdAt: Number(h.created_at),
    updatedAt: Number(h.updated_at),
    failingSince: num(h.failing_since),
  };
}

export interface EndpointStoreDeps {
  redis: Redis;
  keys: Keys;
  /** The box that encrypts secrets; loaded on first use (it may need the data dir and Redis). */
  secrets: () => Promise<SecretBox>;
  now?: () => number;
}

/**
 * Endpoints registered through the API, in Redis: shared by every pushci process on it, kept across
 * restarts. Secrets are encrypted before they reach Redis and decrypted only to sign a message.
 */
export class EndpointStore {
  private readonly redis: ScriptRedis;
  private readonly keys: Keys;
  private readonly secrets: () => Promise<SecretBox>;
  readonly now: () => number;
  private cache: { version: string | null; filters: Filter[] } | null = null;
  private checkedAt = 0;
  private checking: Promise<Filter[]> | null = null;

  constructor(deps: EndpointStoreDeps) {
    this.redis = withScripts(deps.redis);
    this.keys = deps.keys;
    this.secrets = deps.secrets;
    this.now = deps.now ?? Date.now;
  }

  /** Loads (on a first start: makes) the secrets key now, so a key problem shows at start, not at the first delivery. */
  async ready(): Promise<void> {
    await this.secrets();
  }

  /** The box to encrypt with, once Redis agrees this key is the one in use. */
  private async sealingBox(): Promise<SecretBox> {
    const box = await this.secrets();
    const other = await this.redis.pushciEndpointClaimKey(
      this.keys.endpointsKeyId,
      this.keys.endpoints,
      box.keyId,
    );
    if (other)
      throw new ConfigError(
        `endpoint secrets in this Redis are encrypted with key ${other}, but this process has key ${box.keyId}: give every pushci process the same PUSHCI_SECRETS_KEY`,
      );
    return box;
  }

  private changed() {
    this.cache = null;
    return this.redis.incr(this.keys.endpointsVersion);
  }

  /** Registers an endpoint (the URL already checked); returns it and its secret, which is shown only now. */
  async create(
    input: EndpointCreate & { url: string },
  ): Promise<{ endpoint: StoredEndpoint; secret: string }> {
    const secret = input.secret ?? newSecret();
    checkOwnSecret(secret);
    const box = await this.sealingBox();
    const id = `ep_${randomBytes(15)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^0-9a-z]/g, '0')}`;
    const at = this.now();
    await this.redis
      .multi()
      .hset(this.keys.endpoint(id), {
        id,
        url: input.url,
        description: input.description ?? '',
        events: JSON.stringify(input.events ?? SUBSCRIBABLE_EVENTS),
        pipelines: JSON.stringify(input.pipelines ?? []),
        branches: JSON.stringify(input.branches ?? []),
        on_pause: input.on_pause ?? 'keep',
        state: 'active',
        state_at: String(at),
        secret: box.seal(secret, id),
        created_at: String(at),
        updated_at: String(at),
      })
      .zadd(this.keys.endpoints, String(at), id)
      .incr(this.keys.endpointsVersion)
      .exec();
    this.cache = null;
    return { endpoint: (await this.get(id))!, secret };
  }

  async get(id: string): Promise<StoredEndpoint | null> {
    if (!/^ep_[0-9a-z]{1,40}$/.test(id)) return null;
    return parse(await this.redis.hgetall(this.keys.endpoint(id)));
  }

  async require(id: string): Promise<StoredEndpoint> {
    const e = await this.get(id);
    if (!e) throw new NotFoundError(`no endpoint ${id}`);
    return e;
  }

  /** Every registered endpoint, oldest first. */
  async list(): Promise<StoredEndpoint[]> {
    const ids = await this.redis.zrange(this.keys.endpoints, '0', '-1');
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hgetall(this.keys.endpoint(id));
    const out: StoredEndpoint[] = [];
    for (const [, h] of (await p.exec()) ?? []) {
      const e = parse((h ?? {}) as Record<string, string>);
      if (e) out.push(e);
    }
    return out;
  }

  /** Changes the given fields (the URL already checked). */
  async update(id: string, patch: EndpointPatch): Promise<StoredEndpoint> {
    await this.require(id);
    const fields: Record<string, string> = { updated_at: String(this.now()) };
    if (patch.url !== undefined) fields.url = patch.url;
    if (patch.description !== undefined) fields.description = patch.description;
    if (patch.events !== undefined) fields.events = JSON.stringify(patch.events);
    if (patch.pipelines !== undefined) fields.pipelines = JSON.stringify(patch.pipelines);
    if (patch.branches !== undefined) fields.branches = JSON.stringify(patch.branches);
    if (patch.on_pause !== undefined) fields.on_pause = patch.on_pause;
    await this.redis.hset(this.keys.endpoint(id), fields);
    await this.changed();
    return (await this.get(id))!;
  }

  /** Removes the endpoint, its held messages and its counters; messages still queued for it are refused. */
  async remove(id: string): Promise<boolean> {
    if (!(await this.get(id))) return false;
    await this.redis
      .multi()
      .del(
        this.keys.endpoint(id),
        this.keys.endpointHeld(id),
        this.keys.endpointStats(id),
        this.keys.endpointDeliveries(id),
      )
      .zrem(this.keys.endpoints, id)
      .incr(this.keys.endpointsVersion)
      .exec();
    this.cache = null;
    return true;
  }

  /**
   * A new secret; the previous one keeps signing (next to the new one) for `overlapMs`, so receivers can
   * switch without losing a message.
   */
  async rotate(
    id: string,
    opts: { overlapMs: number; secret?: string | undefined },
  ): Promise<{ secret: string; previousUntil: number }> {
    const secret = opts.secret ?? newSecret();
    checkOwnSecret(secret);
    const box = await this.sealingBox();
    const at = this.now();
    const until = at + opts.overlapMs;
    const ok = await this.redis.pushciEndpointRotate(
      this.keys.endpoint(id),
      this.keys.endpointsVersion,
      box.seal(secret, id),
      String(until),
      String(at),
    );
    if (!ok) throw new NotFoundError(`no endpoint ${id}`);
    this.cache = null;
    return { secret, previousUntil: until };
  }

  /** The secrets a message is signed with now: the current one, and the previous one during an overlap. */
  async signingSecrets(id: string): Promise<string[]> {
    const [secret, prev, until] = await this.redis.hmget(
      this.keys.endpoint(id),
      'secret',
      'prev_secret',
      'prev_until',
    );
    if (!secret) return [];
    const box = await this.secrets();
    const out = [box.open(secret, id)];
    if (prev && until && Number(until) > this.now()) out.push(box.open(prev, id));
    return out;
  }

  /** Pauses, resumes or disables; returns the endpoint as it is afterwards. */
  async setState(id: string, state: EndpointState, reason: string | null): Promise<StoredEndpoint> {
    const e = await this.require(id);
    if (e.state === state && state !== 'active')
      throw new ConflictError(`endpoint ${id} is already ${state}`);
    const at = String(this.now());
    const fields: Record<string, string> = {
      state,
      state_reason: reason ?? '',
      state_at: at,
      updated_at: at,
    };
    // A resumed or re-enabled endpoint starts a fresh failure count.
    if (state === 'active') fields.failing_since = '';
    await this.redis.hset(this.keys.endpoint(id), fields);
    await this.changed();
    return (await this.get(id))!;
  }

  /** Disables an endpoint unless it already is; true when this call did it. */
  async disable(id: string, reason: string): Promise<boolean> {
    const e = await this.get(id);
    if (!e || e.state === 'disabled') return false;
    await this.setState(id, 'disabled', reason);
    return true;
  }

  /** A 2xx: the failure run is over. */
  async recordSuccess(id: string): Promise<void> {
    await this.redis.hset(this.keys.endpoint(id), 'failing_since', '');
  }

  /** A failed attempt; returns since when the endpoint has been failing without a success (ms). */
  async recordFailure(id: string): Promise<number | null> {
    const since = await this.redis.pushciEndpointFailed(this.keys.endpoint(id), String(this.now()));
    return since ? Number(since) : null;
  }

  /** Remembers a message held while the endpoint is paused. */
  async hold(id: string, msgId: string): Promise<void> {
    await this.redis.zadd(this.keys.endpointHeld(id), 'NX', String(this.now()), msgId);
  }

  /** The held messages (oldest first), removed from the list. */
  async takeHeld(id: string): Promise<string[]> {
    const [[, ids]] = (await this.redis
      .multi()
      .zrange(this.keys.endpointHeld(id), '0', '-1')
      .del(this.keys.endpointHeld(id))
      .exec()) as [[unknown, string[]], [unknown, number]];
    return ids;
  }

  async heldCount(id: string): Promise<number> {
    return this.redis.zcard(this.keys.endpointHeld(id));
  }

  /** Forgets one held message (delivered or dropped). */
  async release(id: string, msgId: string): Promise<void> {
    await this.redis.zrem(this.keys.endpointHeld(id), msgId);
  }

  /**
   * Ids of the endpoints that want this event of this build (active and paused ones: a paused one keeps
   * or drops it when it is delivered). Served from a copy that is checked against Redis at most every
   * 25 ms, so the hot path costs at most one small read per burst of events.
   */
  async subscribers(
    type: string,
    pipeline: string,
    branch: string | null,
  ): Promise<Array<{ id: string; url: string }>> {
    const filters = await this.filters();
    return filters
      .filter(
        (f) =>
          f.state !== 'disabled' &&
          f.events.has(type) &&
          (f.pipelines.length === 0 || matchesList(f.pipelines, pipeline)) &&
          (f.branches.length === 0 || (branch !== null && matchesList(f.branches, branch))),
      )
      .map((f) => ({ id: f.id, url: f.url }));
  }

  private async filters(): Promise<Filter[]> {
    const now = Date.now();
    if (this.cache && now - this.checkedAt < RECHECK_MS) return this.cache.filters;
    return (this.checking ??= (async () => {
      try {
        const version = await this.redis.get(this.keys.endpointsVersion);
        if (this.cache && this.cache.version === version) {
          this.checkedAt = Date.now();
          return this.cache.filters;
        }
        const filters = (await this.list()).map((e) => ({
          id: e.id,
          url: e.url,
          state: e.state,
          events: new Set(e.events),
          pipelines: e.pipelines.map(parseGlob),
          branches: e.branches.map(parseGlob),
        }));
        this.cache = { version, filters };
        this.checkedAt = Date.now();
        return filters;
      } finally {
        this.checking = null;
      }
    })());
  }
}
