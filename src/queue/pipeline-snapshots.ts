import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Pipeline } from '../pipelines/pipeline.ts';
import type { Keys } from './keys.ts';

const CACHE_LIMIT = 1000;

/**
 * Builds snapshot the pipeline they were created from, so a later edit of the file does not change a
 * queued build. The snapshot is stored once per distinct definition (`<prefix>:def:<sha256>`) and each
 * build keeps only its ref: a 5 KiB pipeline costs 5 KiB once, not 5 KiB per build, and the intake
 * sends its bytes to Redis only the first time this process uses it.
 *
 * Snapshots are immutable (the ref is the hash of the text), so what this process read or wrote once
 * is cached here for good.
 */
export class PipelineSnapshots {
  private readonly redis: Redis;
  private readonly keys: Keys;
  // Pipelines are compiled once per load and never changed afterwards.
  private readonly byPipeline = new WeakMap<Pipeline, { ref: string; json: string }>();
  private readonly texts = new Map<string, string>();
  /** Refs this process knows to be in Redis (written or confirmed by the create script). */
  private readonly stored = new Set<string>();

  constructor(redis: Redis, keys: Keys) {
    this.redis = redis;
    this.keys = keys;
  }

  /** The snapshot of a compiled pipeline: its ref and JSON text. */
  of(def: Pipeline): { ref: string; json: string } {
    let s = this.byPipeline.get(def);
    if (!s) {
      const json = JSON.stringify(def);
      s = { ref: createHash('sha256').update(json).digest('hex').slice(0, 32), json };
      this.byPipeline.set(def, s);
      this.remember(s.ref, json);
    }
    return s;
  }

  /** Whether the create script may be sent the ref alone (it still checks, and asks for the text if it is gone). */
  isStored(ref: string): boolean {
    return this.stored.has(ref);
  }

  markStored(ref: string, stored: boolean): void {
    if (stored) this.stored.add(ref);
    else this.stored.delete(ref);
  }

  /** The parsed definition a build refers to, or null if its snapshot is gone. */
  async resolve(ref: string): Promise<Pipeline | null> {
    let text = this.texts.get(ref);
    if (text === undefined) {
      const got = await this.redis.get(this.keys.pipelineSnapshot(ref));
      if (got === null) return null;
      this.remember(ref, (text = got));
    }
    return JSON.parse(text) as Pipeline;
  }

  private remember(ref: string, text: string) {
    if (this.texts.size >= CACHE_LIMIT) this.texts.delete(this.texts.keys().next().value!);
    this.texts.set(ref, text);
  }
}
