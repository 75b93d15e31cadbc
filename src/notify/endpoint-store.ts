import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ConfigError, ConflictError, NotFoundError } from '../errors.ts';
import type { Keys } from '../queue/keys.ts';
import { withScripts, type ScriptRedis } from '../queue/scripts.ts';
import type { EndpointCreate, EndpointPatch } from './endpoint-schema.ts';
import { SUBSCRIBABLE_EVENTS } from './endpoint-schema.ts';
import type { SecretBox } from './secret-box.ts';
import { SubscriberFilters } from './subscriber-filters.ts';
import {
  checkOwnSecret,
  newSecret,
  parseStoredEndpoint,
  type EndpointState,
  type StoredEndpoint,
} from './stored-endpoint.ts';

export { newSecret, type EndpointState, type StoredEndpoint };

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
  private readonly filters: SubscriberFilters;

  constructor(deps: EndpointStoreDeps) {
    this.redis = withScripts(deps.redis);
    this.keys = deps.keys;
    this.secrets = deps.secrets;
    this.now = deps.now ?? Date.now;
    this.filters = new SubscriberFilters(deps.redis, deps.keys, () => this.list());
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
    this.filters.forget();
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
    this.filters.forget();
    return { endpoint: (await this.get(id))!, secret };
  }

  async get(id: string): Promise<StoredEndpoint | null> {
    if (!/^ep_[0-9a-z]{1,40}$/.test(id)) return null;
    return parseStoredEndpoint(await this.redis.hgetall(this.keys.endpoint(id)));
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
      const e = parseStoredEndpoint((h ?? {}) as Record<string, string>);
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
    this.filters.forget();
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
    this.filters.forget();
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

  /** Ids of the endpoints that want this event of this build (see SubscriberFilters). */
  subscribers(
    type: string,
    pipeline: string,
    branch: string | null,
  ): Promise<Array<{ id: string; url: string }>> {
    return this.filters.subscribers(type, pipeline, branch);
  }
}
