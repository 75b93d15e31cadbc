import type { Context } from 'koa';
import type { Router } from '@koa/router';
import {
  ANY_ARTIFACT_NAME,
  artifactDiskName,
  artifactFileOf,
  type ArtifactInfo,
} from '../artifacts/artifact-store.ts';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { ArtifactUrlScope, ArtifactUrlSigner } from '../artifacts/artifact-url-signer.ts';
import type { JobGrant } from '../artifacts/job-credentials.ts';
import { ForbiddenError, InvalidRequestError, NotFoundError, PushciError } from '../errors.ts';
import { jobBaseOf } from './actions-cache-api.ts';
import { errorResponse } from './error-response.ts';
import { readJsonBody } from './json-body.ts';
import { readRawBody } from './raw-body.ts';

export interface ActionsArtifactDeps {
  artifacts: ArtifactStore;
  artifactUrls: ArtifactUrlSigner;
  artifactUrlTtlMs: number;
}

/** The Twirp service `@actions/artifact` (v2 and later, upload-artifact@v4) calls. */
export const ARTIFACT_SERVICE = 'github.actions.results.api.v1.ArtifactService';
/** Where the signed blob URLs point (under the job's gateway). */
export const ARTIFACT_BLOBS = '/_apis/pushci/artifacts';

const grantOf = (ctx: Context) => ctx.state.grant as JobGrant;

/** Twirp's error codes, by the HTTP status pushci's errors have. */
const TWIRP: Record<number, string> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  409: 'already_exists',
  413: 'out_of_range',
};

/** A Twirp method: errors become Twirp's `{ code, msg }` (the client reads `msg`; 4xx are not retried). */
function twirp(handle: (ctx: Context, body: Record<string, unknown>) => Promise<unknown>) {
  return async (ctx: Context) => {
    try {
      const body = await readJsonBody(ctx, 64 * 1024);
      ctx.body = await handle(ctx, body);
    } catch (err) {
      if (!(err instanceof PushciError)) throw err;
      const r = errorResponse(err);
      ctx.status = r.status;
      ctx.body = { code: TWIRP[r.status] ?? 'internal', msg: err.message };
    }
  };
}

function text(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v === '') throw new InvalidRequestError(`${field} is required`);
  return v;
}

/** A protobuf wrapper (StringValue, Int64Value) in JSON: the bare value. */
function wrapped(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'object' && 'value' in v) return String((v as { value: unknown }).value);
  throw new InvalidRequestError(`${field} is not a value`);
}

/**
 * The ids in the request are the ones the step's ACTIONS_RUNTIME_TOKEN carries (the build and the job);
 * the grant of the credential the gateway added decides, so ids of another build or job are refused.
 */
function checkRun(grant: JobGrant, body: Record<string, unknown>): void {
  if (text(body, 'workflow_run_backend_id') !== grant.buildId)
    throw new ForbiddenError('a job reaches only the artifacts of its own build');
  if (text(body, 'workflow_job_run_backend_id') !== grant.job)
    throw new ForbiddenError('a job uploads and deletes only its own artifacts');
}

function nameOf(body: Record<string, unknown>): string {
  const name = text(body, 'name');
  if (!ANY_ARTIFACT_NAME.test(name))
    throw new InvalidRequestError(
      `artifact name "${name}": at most 100 characters without " : < > | * ? \\ / or line breaks, not starting with "." or a space`,
    );
  return name;
}

function listed(buildId: string, a: ArtifactInfo) {
  return {
    workflow_run_backend_id: buildId,
    workflow_job_run_backend_id: a.job,
    database_id: String(a.id ?? 0),
    name: a.name,
    size: String(a.size),
    created_at: a.created_at,
    ...(a.digest ? { digest: a.digest } : {}),
  };
}

/**
 * The artifact protocol of `@actions/artifact` (upload-artifact@v4 / download-artifact@v4): the Twirp
 * service at `ACTIONS_RESULTS_URL`, and the blob URLs it hands out in Azure's block-blob dialect
 * (`PUT ?comp=block`, `PUT ?comp=blocklist`, `GET`). Mounted on the job router: the step reaches it only
 * through its job's gateway, which adds the job's credential. Artifacts land in the same store as the
 * native `artifacts:` key, so the API, CLI and dashboard list and serve them alike.
 */
export function mountActionsArtifacts(r: Router, deps: ActionsArtifactDeps): void {
  const { artifacts, artifactUrls: urls } = deps;
  const signed = async (ctx: Context, scope: ArtifactUrlScope) => {
    // A name that is not plain travels in the query; the path has its hash (nothing to normalise there).
    const key = artifactDiskName(scope.name);
    const path = [scope.buildId, scope.owner, key, scope.purpose].join('/');
    // Encoded down to the characters the job gateway lets through in a query (`!'()*` too).
    const value = encodeURIComponent(scope.name).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
    const named = key === scope.name ? '' : `name=${value}&`;
    const query = named + (await urls.sign(scope, deps.artifactUrlTtlMs));
    return `${jobBaseOf(ctx)}${ARTIFACT_BLOBS.slice(1)}/${path}?${query}`;
  };
  const rpc = (method: string, handle: (ctx: Context, body: Record<string, unknown>) => Promise<unknown>) =>
    r.post(`/twirp/${ARTIFACT_SERVICE}/${method}`, twirp(handle));

  rpc('CreateArtifact', async (ctx, body) => {
    const g = grantOf(ctx);
    checkRun(g, body);
    const name = nameOf(body);
    const type = wrapped(body, 'mime_type') ?? 'application/zip';
    const expires = typeof body.expires_at === 'string' ? body.expires_at : undefined;
    await artifacts.begin(g.buildId, g.job, name, {
      job: g.job,
      // upload-artifact's `archive: false` uploads one file under its own name, not a zip.
      format: type === 'application/zip' ? 'zip' : 'file',
      ...(type === 'application/zip' ? {} : { file_name: name }),
      ...(expires ? { expires_at: expires } : {}),
    });
    const url = await signed(ctx, {
      purpose: 'upload',
      buildId: g.buildId,
      job: g.job,
      owner: g.job,
      name,
    });
    return { ok: true, signed_upload_url: url };
  });

  rpc('FinalizeArtifact', async (ctx, body) => {
    const g = grantOf(ctx);
    checkRun(g, body);
    const size = wrapped(body, 'size');
    if (size !== undefined && !/^\d{1,15}$/.test(size)) throw new InvalidRequestError('size is a number');
    const info = await artifacts.finalize(g.buildId, g.job, nameOf(body), {
      size: size === undefined ? undefined : Number(size),
      digest: wrapped(body, 'hash'),
    });
    return { ok: true, artifact_id: String(info.id) };
  });

  rpc('ListArtifacts', async (ctx, body) => {
    const g = grantOf(ctx);
    // Run-wide, as GitHub lists them: any job of the build sees every artifact of the build.
    if (text(body, 'workflow_run_backend_id') !== g.buildId)
      throw new ForbiddenError('a job reaches only the artifacts of its own build');
    const byName = wrapped(body, 'name_filter');
    const byId = wrapped(body, 'id_filter');
    const all = await artifacts.list(g.buildId);
    return {
      artifacts: all
        .filter(
          (a) => (byName === undefined || a.name === byName) && (byId === undefined || String(a.id) === byId),
        )
        .map((a) => listed(g.buildId, a)),
    };
  });

  rpc('GetSignedArtifactURL', async (ctx, body) => {
    const g = grantOf(ctx);
    // Any job of the build may download; the job id is the uploader's, as ListArtifacts gave it.
    if (text(body, 'workflow_run_backend_id') !== g.buildId)
      throw new ForbiddenError('a job reaches only the artifacts of its own build');
    const name = nameOf(body);
    const info = await artifacts.info(g.buildId, name);
    if (text(body, 'workflow_job_run_backend_id') !== info.job)
      throw new NotFoundError(`artifact "${name}" of this build was uploaded by another job`);
    return {
      signed_url: await signed(ctx, {
        purpose: 'download',
        buildId: g.buildId,
        job: g.job,
        owner: info.job,
        name,
      }),
    };
  });

  rpc('DeleteArtifact', async (ctx, body) => {
    const g = grantOf(ctx);
    checkRun(g, body);
    const info = await artifacts.delete(g.buildId, g.job, nameOf(body));
    return { ok: true, artifact_id: String(info.id ?? 0) };
  });

  /** Checks a blob URL: this job's build, and a signature over this job, the artifact and the purpose. */
  const blob = async (ctx: Context, purpose: ArtifactUrlScope['purpose']) => {
    const g = grantOf(ctx);
    const { build, owner, key } = ctx.params as Record<string, string>;
    if (build !== g.buildId) throw new NotFoundError('a job reaches only the artifacts of its own build');
    const name = key!.startsWith('~') ? String(ctx.query.name ?? '') : key!;
    if (artifactDiskName(name) !== key) throw new NotFoundError('no such artifact URL');
    const scope = { purpose, buildId: g.buildId, job: g.job, owner: owner!, name };
    await urls.verify(scope, String(ctx.query.expires ?? ''), String(ctx.query.sig ?? ''));
    return scope;
  };
  const blobPath = `${ARTIFACT_BLOBS}/:build/:owner/:key`;

  r.put(`${blobPath}/upload`, async (ctx) => {
    const s = await blob(ctx, 'upload');
    const comp = ctx.query.comp;
    if (comp === 'block') {
      await artifacts.stageBlock(s.buildId, s.owner, s.name, String(ctx.query.blockid ?? ''), ctx.req);
    } else if (comp === 'blocklist') {
      const xml = (await readRawBody(ctx.req, 4 * 1024 * 1024)).toString('utf8');
      const ids = [...xml.matchAll(/<(Latest|Committed|Uncommitted)>([^<]*)<\/\1>/g)].map((m) =>
        m[2]!.trim(),
      );
      await artifacts.commitBlocks(s.buildId, s.owner, s.name, ids);
    } else throw new InvalidRequestError('send ?comp=block&blockid=… or ?comp=blocklist');
    // Azure answers 201 to both, and its SDK takes nothing else for success.
    ctx.status = 201;
  });

  r.get(`${blobPath}/download`, async (ctx) => {
    const s = await blob(ctx, 'download');
    const { info, stream } = await artifacts.open(s.buildId, s.name);
    const f = artifactFileOf(info);
    ctx.type = f.type;
    ctx.length = info.size;
    ctx.attachment(f.file, { fallback: true });
    ctx.body = stream;
  });
}
