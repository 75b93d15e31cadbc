import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { ArtifactStore } from './artifact-store.ts';
import { ArtifactUrlSigner } from './artifact-url-signer.ts';
import { CacheStore } from './cache-store.ts';
import { JobCredentials } from './job-credentials.ts';

/** Caches unused this long are removed (GitHub's rule is 7 days too). */
export const CACHE_UNUSED_MS = 7 * 86_400_000;

/** The server's cache and artifact stores and the job credentials, from the configuration. */
export function createFileStores(redis: Redis, config: Readonly<Config>, now?: () => number) {
  const clock = now ? { now } : {};
  return {
    credentials: new JobCredentials(redis, config.queuePrefix),
    caches: new CacheStore({
      redis,
      prefix: config.queuePrefix,
      dataDir: config.dataDir,
      maxBytes: config.cacheMaxBytes,
      ...clock,
    }),
    artifacts: new ArtifactStore({
      redis,
      prefix: config.queuePrefix,
      dataDir: config.dataDir,
      retentionMs: config.artifactRetentionMs,
      maxBytes: config.artifactMaxBytes,
      totalBytes: config.artifactTotalBytes,
      ...clock,
    }),
    artifactUrls: new ArtifactUrlSigner(redis, config.queuePrefix, now),
    artifactUrlTtlMs: config.artifactUrlTtlMs,
  };
}
