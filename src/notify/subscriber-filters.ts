import type { Redis } from 'ioredis';
import { matchesList, parseGlob, type Glob } from '../pipelines/glob.ts';
import type { Keys } from '../queue/keys.ts';
import type { EndpointState, StoredEndpoint } from './stored-endpoint.ts';

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

/**
 * Which registered endpoints want an event, from a copy of their filters that is checked against the
 * endpoints' version counter in Redis at most every 25 ms, so the hot path costs at most one small read
 * per burst of events.
 */
export class SubscriberFilters {
  private readonly redis: Redis;
  private readonly keys: Keys;
  private readonly list: () => Promise<StoredEndpoint[]>;
  private cache: { version: string | null; filters: Filter[] } | null = null;
  private checkedAt = 0;
  private checking: Promise<Filter[]> | null = null;

  constructor(redis: Redis, keys: Keys, list: () => Promise<StoredEndpoint[]>) {
    this.redis = redis;
    this.keys = keys;
    this.list = list;
  }

  /** This process changed an endpoint: read them afresh next time. */
  forget(): void {
    this.cache = null;
  }

  /**
   * Ids of the endpoints that want this event of this build (active and paused ones: a paused one keeps
   * or drops it when it is delivered).
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
