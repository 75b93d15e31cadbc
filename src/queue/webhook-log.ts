import type { Redis } from 'ioredis';
import { cursorText, newestAfter, type TimeCursor } from './newest-after.ts';
import type { Keys } from './keys.ts';
import type { MatchExplanation } from '../pipelines/explain.ts';
import { withScripts, type ScriptRedis } from './scripts.ts';

/** What became of a received webhook. */
export type WebhookResult = 'builds' | 'no_match' | 'ignored' | 'ping' | 'duplicate' | 'deleted' | 'refused';

/** One received webhook as the "why" view shows it: short, bounded, never the payload. */
export interface WebhookRecord {
  /** The answer's X-Request-Id. */
  id: string;
  at: string;
  forge: string;
  /** The forge's event header (X-GitHub-Event, X-Gitlab-Event, …), as sent. */
  event: string | null;
  delivery_id: string | null;
  /** The HTTP status pushci answered. */
  status: number;
  result: WebhookResult;
  /** One line: what happened and why. */
  reason: string;
  repository: string | null;
  refs: string[];
  /** Every pipeline and whether it took the push, with the rule that decided. */
  pipelines: Array<MatchExplanation & { build_id?: string; number?: number }>;
}

/** Longest text kept from a header or a message; a record stays small whatever arrives. */
const TEXT = 200;
const PIPELINES = 100;
const cut = (s: string | null | undefined) =>
  s == null ? null : s.length > TEXT ? `${s.slice(0, TEXT)}…` : s;

/**
 * Received webhooks in Redis: one key per record (expiring after the retention) and an index by time
 * trimmed to the newest `max`. Writes are batched per event-loop turn and never delay an answer.
 */
export class WebhookLog {
  private pending: WebhookRecord[] = [];
  private readonly redis: ScriptRedis;
  private readonly keys: Keys;
  private readonly max: number;
  private readonly ttlMs: number;

  constructor(redis: Redis, keys: Keys, opts: { max: number; ttlMs: number }) {
    this.redis = withScripts(redis);
    this.keys = keys;
    this.max = opts.max;
    this.ttlMs = opts.ttlMs;
  }

  private key = (id: string) => this.keys.webhook(id);
  private get index() {
    return this.keys.webhooks;
  }

  /** Keeps a record (soon, with the others of this turn); a Redis outage loses it, never the webhook. */
  add(r: WebhookRecord): void {
    if (this.max <= 0) return;
    const record: WebhookRecord = {
      ...r,
      event: cut(r.event),
      delivery_id: cut(r.delivery_id),
      reason: cut(r.reason) ?? '',
      repository: cut(r.repository),
      refs: r.refs.slice(0, 20).map((x) => cut(x)!),
      pipelines: r.pipelines.slice(0, PIPELINES).map((p) => ({ ...p, reason: cut(p.reason) ?? '' })),
    };
    if (this.pending.push(record) === 1) setImmediate(() => void this.flush());
  }

  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0 || this.redis.status !== 'ready') return;
    // One script call, not a MULTI of two commands per record: on the intake's hot path ioredis's
    // per-command work for the MULTI was most of what keeping the records cost.
    const keys = [this.index];
    const args = [String(this.max), String(this.ttlMs), String(Date.now())];
    for (const r of batch) {
      keys.push(this.key(r.id));
      args.push(r.id, String(Date.parse(r.at)), JSON.stringify(r));
    }
    await this.redis.pushciWebhookLog(keys.length, ...keys, ...args).catch(() => null);
  }

  /** Newest first, after `before` (the previous page's `next`). */
  async list(
    limit: number,
    before: TimeCursor | null,
  ): Promise<{ records: WebhookRecord[]; next: string | null }> {
    const page = await newestAfter(this.redis, this.index, before, limit);
    const texts = page.length ? await this.redis.mget(page.map((e) => this.key(e.member))) : [];
    const records = texts.filter((t): t is string => t !== null).map((t) => JSON.parse(t) as WebhookRecord);
    const last = page.at(-1);
    return {
      records,
      next: page.length === limit && last ? cursorText({ score: last.score, member: last.member }) : null,
    };
  }

  async get(id: string): Promise<WebhookRecord | null> {
    const t = await this.redis.get(this.key(id));
    return t ? (JSON.parse(t) as WebhookRecord) : null;
  }
}
