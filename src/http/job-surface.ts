import type { Context } from 'koa';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { ArtifactUrlSigner } from '../artifacts/artifact-url-signer.ts';
import type { CacheStore } from '../artifacts/cache-store.ts';
import type { JobCredentials, JobGrant } from '../artifacts/job-credentials.ts';
import type { BuildStore } from '../queue/store.ts';
import { error } from './openapi/parts.ts';
import type { Route, Surface } from './route.ts';

/** What the `/job` routes are made from. */
export interface JobApiDeps {
  credentials: JobCredentials;
  store: BuildStore;
  caches: CacheStore;
  artifacts: ArtifactStore;
  artifactUrls: ArtifactUrlSigner;
  artifactUrlTtlMs: number;
}

/** One route of `/job`: Koa's path, relative to `/job`. */
export type JobRoute = Route<JobApiDeps>;

/** Every `/job` route takes a running job's own credential (job-api.ts checks it first). */
export const JOB_SURFACE: Surface = {
  prefix: '/job',
  security: [{ jobCredential: [] }],
  responses: { '401': error('No live credential of a running job') },
};

/** The job the request's credential belongs to (set by `jobAuth`). */
export const grantOf = (ctx: Context): JobGrant => ctx.state.grant as JobGrant;
