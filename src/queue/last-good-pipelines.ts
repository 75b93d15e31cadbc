import type { Redis } from 'ioredis';
import type { LastGood, PipelineSet } from '../pipelines/pipeline-set.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';

/**
 * The last good version of every pipeline file, in one Redis hash (file name → `{since, pipeline}`), so a
 * restart with a broken file still serves what that file last defined. Kept apart from the builds'
 * snapshots (`def:<hash>`), which retention removes once no build uses them.
 */
export class LastGoodPipelines {
  private readonly redis: Redis;
  private readonly key: string;
  /** What the hash holds, as this process last read or wrote it: file name → pipeline JSON and since. */
  private readonly known = new Map<string, { json: string; since: string }>();

  constructor(redis: Redis, key: string) {
    this.redis = redis;
    this.key = key;
  }

  /** Every file's last good version. Entries that do not parse are skipped (they are replaced on the next good load). */
  async read(): Promise<Map<string, LastGood>> {
    const out = new Map<string, LastGood>();
    for (const [name, text] of Object.entries(await this.redis.hgetall(this.key))) {
      try {
        const v = JSON.parse(text) as { since: string; pipeline: Pipeline };
        if (typeof v.since !== 'string' || typeof v.pipeline?.name !== 'string') continue;
        out.set(name, v);
        this.known.set(name, { json: JSON.stringify(v.pipeline), since: v.since });
      } catch {
        // written by something else; ignore
      }
    }
    return out;
  }

  /**
   * Records the good files of `set` (only those whose definition changed) and forgets files that are
   * gone from the folder. A broken file keeps its entry.
   */
  async record(set: PipelineSet): Promise<void> {
    const byName = new Map(set.pipelines.map((p) => [p.name, p]));
    const writes: Record<string, string> = {};
    for (const f of set.files) {
      const p = f.state === 'ok' && f.pipeline ? byName.get(f.pipeline) : undefined;
      if (!p) continue;
      const json = JSON.stringify(p);
      if (this.known.get(f.name)?.json === json) continue;
      const since = f.since ?? set.loadedAt;
      writes[f.name] = JSON.stringify({ since, pipeline: p });
      this.known.set(f.name, { json, since });
    }
    const present = new Set(set.files.map((f) => f.name));
    const gone = [...this.known.keys()].filter((name) => !present.has(name));
    for (const name of gone) this.known.delete(name);
    const m = this.redis.multi();
    if (Object.keys(writes).length > 0) m.hset(this.key, writes);
    if (gone.length > 0) m.hdel(this.key, ...gone);
    if (Object.keys(writes).length > 0 || gone.length > 0) await m.exec();
  }
}
