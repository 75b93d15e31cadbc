import type { Redis } from 'ioredis';
import { keys, type Keys } from '../queue/keys.ts';
import { withScripts, type ScriptRedis } from '../queue/scripts.ts';
import type { ArtifactInfo, ArtifactUpload } from './artifact-info.ts';

/** An artifact's member in the by-age set (the total cap evicts by it). */
export const ageMember = (buildId: string, name: string) => `${buildId}\n${name}`;

/**
 * The Redis side of artifacts: each build's index (a hash by name), the open artifact-protocol uploads,
 * every artifact by age with the bytes they hold (for the total cap), and builds by expiry. Files are
 * the caller's; this keeps the counts right when callers race (Lua where it must be atomic).
 */
export class ArtifactIndex {
  private readonly redis: ScriptRedis;
  private readonly k: Keys;
  constructor(redis: Redis, prefix: string) {
    this.redis = withScripts(redis);
    this.k = keys(prefix);
  }

  /** Every artifact of a build, expired ones too. */
  async all(buildId: string): Promise<ArtifactInfo[]> {
    return (await this.redis.hvals(this.k.artifacts(buildId))).map((t) => JSON.parse(t) as ArtifactInfo);
  }

  async get(buildId: string, name: string): Promise<ArtifactInfo | null> {
    const text = await this.redis.hget(this.k.artifacts(buildId), name);
    return text ? (JSON.parse(text) as ArtifactInfo) : null;
  }

  async names(buildId: string): Promise<string[]> {
    return this.redis.hkeys(this.k.artifacts(buildId));
  }

  /** A number no other artifact has had. */
  async nextId(): Promise<number> {
    return this.redis.incr(this.k.artifactIds);
  }

  /** Lists an artifact (replacing one of its name) and keeps the build's artifacts until at least `keptUntil`. */
  async publish(buildId: string, info: ArtifactInfo, storedAt: number, keptUntil: number): Promise<void> {
    await this.redis.pushciArtifactPublish(
      this.k.artifacts(buildId),
      this.k.artifactsByAge,
      this.k.artifactBytes,
      this.k.artifactsExpiry,
      info.name,
      JSON.stringify(info),
      String(info.size),
      ageMember(buildId, info.name),
      String(storedAt),
      String(keptUntil),
      buildId,
    );
  }

  /** Unlists one artifact: true when this call did (its bytes leave the total once). */
  async drop(buildId: string, name: string): Promise<boolean> {
    const dropped = await this.redis.pushciArtifactDrop(
      this.k.artifacts(buildId),
      this.k.artifactsByAge,
      this.k.artifactBytes,
      name,
      ageMember(buildId, name),
    );
    return Number(dropped) === 1;
  }

  /** Bytes all stored artifacts hold. */
  async totalBytes(): Promise<number> {
    return Number((await this.redis.get(this.k.artifactBytes)) ?? 0);
  }

  /** The oldest stored artifact but `keep` (a by-age member), or null when there is none. */
  async oldest(keep?: string): Promise<{ buildId: string; name: string } | null> {
    const member = (await this.redis.zrange(this.k.artifactsByAge, '0', '1')).find((m) => m !== keep);
    if (!member) return null;
    const [buildId, name] = member.split('\n') as [string, string];
    return { buildId, name };
  }

  /** The open artifact-protocol upload of `name`, whichever job began it. */
  async upload(buildId: string, name: string): Promise<ArtifactUpload | null> {
    const text = await this.redis.hget(this.k.artifactUploads(buildId), name);
    return text ? (JSON.parse(text) as ArtifactUpload) : null;
  }

  /** Every open upload of a build. */
  async uploads(buildId: string): Promise<ArtifactUpload[]> {
    const all = await this.redis.hvals(this.k.artifactUploads(buildId));
    return all.map((v) => JSON.parse(v) as ArtifactUpload);
  }

  /** Records an open upload; the build's folder is kept until at least `keptUntil`, then swept. */
  async openUpload(buildId: string, name: string, upload: ArtifactUpload, keptUntil: number): Promise<void> {
    await this.redis
      .multi()
      .hset(this.k.artifactUploads(buildId), name, JSON.stringify(upload))
      .zadd(this.k.artifactsExpiry, 'GT', keptUntil, buildId)
      .exec();
  }

  async closeUpload(buildId: string, name: string): Promise<void> {
    await this.redis.hdel(this.k.artifactUploads(buildId), name);
  }

  /** Forgets a build's index, its open uploads and its expiry (its artifacts dropped first). */
  async removeBuild(buildId: string): Promise<void> {
    await this.redis
      .multi()
      .del(this.k.artifacts(buildId))
      .del(this.k.artifactUploads(buildId))
      .zrem(this.k.artifactsExpiry, buildId)
      .exec();
  }

  /** Up to 1,000 builds whose artifacts expired by `now`. */
  async expiredBuilds(now: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.k.artifactsExpiry, '-inf', now, 'LIMIT', 0, 1000);
  }
}
