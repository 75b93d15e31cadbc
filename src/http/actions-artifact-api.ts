import type { Context } from 'koa';
import { artifactFileOf, type ArtifactInfo } from '../artifacts/artifact-info.ts';
import { ANY_ARTIFACT_NAME, artifactDiskName } from '../artifacts/artifact-names.ts';
import type { ArtifactUrlScope } from '../artifacts/artifact-url-signer.ts';
import type { JobGrant } from '../artifacts/job-credentials.ts';
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../errors.ts';
import { jobBaseOf } from './actions-cache-api.ts';
import { grantOf, type JobApiDeps, type JobRoute } from './job-surface.ts';
import { error } from './openapi/parts.ts';
import { readRawBody } from './raw-body.ts';
import { text, twirp, TWIRP_RESPONSES, wrapped } from './twirp.ts';

/** The Twirp service `@actions/artifact` (v2 and later, upload-artifact@v4) calls. */
const ARTIFACT_SERVICE = 'github.actions.results.api.v1.ArtifactService';
/** Where the signed blob URLs point (under the job's gateway). */
const ARTIFACT_BLOBS = '/_apis/pushci/artifacts';

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

/** A blob URL for the step, through its job's gateway, signed for this job, artifact and purpose. */
async function signed(deps: JobApiDeps, ctx: Context, scope: ArtifactUrlScope): Promise<string> {
  // A name that is not plain travels in the query; the path has its hash (nothing to normalise there).
  const key = artifactDiskName(scope.name);
  const path = [scope.buildId, scope.owner, key, scope.purpose].join('/');
  // Encoded down to the characters the job gateway lets through in a query (`!'()*` too).
  const value = encodeURIComponent(scope.name).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  const named = key === scope.name ? '' : `name=${value}&`;
  const query = named + (await deps.artifactUrls.sign(scope, deps.artifactUrlTtlMs));
  return `${jobBaseOf(ctx)}${ARTIFACT_BLOBS.slice(1)}/${path}?${query}`;
}

/** Checks a blob URL: this job's build, and a signature over this job, the artifact and the purpose. */
async function blob(deps: JobApiDeps, ctx: Context, purpose: ArtifactUrlScope['purpose']) {
  const g = grantOf(ctx);
  const { build, owner, key } = ctx.params as Record<string, string>;
  if (build !== g.buildId) throw new NotFoundError('a job reaches only the artifacts of its own build');
  const name = key!.startsWith('~') ? String(ctx.query.name ?? '') : key!;
  if (artifactDiskName(name) !== key) throw new NotFoundError('no such artifact URL');
  const scope = { purpose, buildId: g.buildId, job: g.job, owner: owner!, name };
  await deps.artifactUrls.verify(scope, String(ctx.query.expires ?? ''), String(ctx.query.sig ?? ''));
  return scope;
}

/** One Twirp method of the artifact service: a POST whose errors are Twirp's `{ code, msg }`. */
const rpc = (
  method: string,
  summary: string,
  handle: (deps: JobApiDeps, ctx: Context, body: Record<string, unknown>) => Promise<unknown>,
): JobRoute => ({
  method: 'post',
  path: `/twirp/${ARTIFACT_SERVICE}/${method}`,
  handler: (deps) => twirp((ctx, body) => handle(deps, ctx, body)),
  doc: {
    summary: `Artifact protocol of @actions/artifact (Twirp, JSON), ${method}: ${summary}; the step reaches it through its job gateway (ACTIONS_RESULTS_URL)`,
    responses: TWIRP_RESPONSES,
  },
});

const blobPath = `${ARTIFACT_BLOBS}/:build/:owner/:key`;
const badBlob = { '403': error('Not signed for this job and artifact, or expired') };

/**
 * The artifact protocol of `@actions/artifact` (upload-artifact@v4 / download-artifact@v4): the Twirp
 * service at `ACTIONS_RESULTS_URL`, and the blob URLs it hands out in Azure's block-blob dialect
 * (`PUT ?comp=block`, `PUT ?comp=blocklist`, `GET`). On the job router: the step reaches it only
 * through its job's gateway, which adds the job's credential. Artifacts land in the same store as the
 * native `artifacts:` key, so the API, CLI and dashboard list and serve them alike.
 */
export const ACTIONS_ARTIFACT_ROUTES: readonly JobRoute[] = [
  rpc('CreateArtifact', 'begin an upload; answers a signed upload URL', async (deps, ctx, body) => {
    const g = grantOf(ctx);
    checkRun(g, body);
    const name = nameOf(body);
    const type = wrapped(body, 'mime_type') ?? 'application/zip';
    const expires = typeof body.expires_at === 'string' ? body.expires_at : undefined;
    await deps.artifacts.begin(g.buildId, g.job, name, {
      job: g.job,
      // upload-artifact's `archive: false` uploads one file under its own name, not a zip.
      format: type === 'application/zip' ? 'zip' : 'file',
      ...(type === 'application/zip' ? {} : { file_name: name }),
      ...(expires ? { expires_at: expires } : {}),
    });
    const url = await signed(deps, ctx, {
      purpose: 'upload',
      buildId: g.buildId,
      job: g.job,
      owner: g.job,
      name,
    });
    return { ok: true, signed_upload_url: url };
  }),

  rpc('FinalizeArtifact', 'make an uploaded artifact readable', async (deps, ctx, body) => {
    const g = grantOf(ctx);
    checkRun(g, body);
    const size = wrapped(body, 'size');
    if (size !== undefined && !/^\d{1,15}$/.test(size)) throw new InvalidRequestError('size is a number');
    const info = await deps.artifacts.finalize(g.buildId, g.job, nameOf(body), {
      size: size === undefined ? undefined : Number(size),
      digest: wrapped(body, 'hash'),
    });
    return { ok: true, artifact_id: String(info.id) };
  }),

  rpc('ListArtifacts', 'the artifacts of the job’s build', async (deps, ctx, body) => {
    const g = grantOf(ctx);
    // Run-wide, as GitHub lists them: any job of the build sees every artifact of the build.
    if (text(body, 'workflow_run_backend_id') !== g.buildId)
      throw new ForbiddenError('a job reaches only the artifacts of its own build');
    const byName = wrapped(body, 'name_filter');
    const byId = wrapped(body, 'id_filter');
    const all = await deps.artifacts.list(g.buildId);
    return {
      artifacts: all
        .filter(
          (a) => (byName === undefined || a.name === byName) && (byId === undefined || String(a.id) === byId),
        )
        .map((a) => listed(g.buildId, a)),
    };
  }),

  rpc('GetSignedArtifactURL', 'a signed download URL', async (deps, ctx, body) => {
    const g = grantOf(ctx);
    // Any job of the build may download; the job id is the uploader's, as ListArtifacts gave it.
    if (text(body, 'workflow_run_backend_id') !== g.buildId)
      throw new ForbiddenError('a job reaches only the artifacts of its own build');
    const name = nameOf(body);
    const info = await deps.artifacts.info(g.buildId, name);
    if (text(body, 'workflow_job_run_backend_id') !== info.job)
      throw new NotFoundError(`artifact "${name}" of this build was uploaded by another job`);
    return {
      signed_url: await signed(deps, ctx, {
        purpose: 'download',
        buildId: g.buildId,
        job: g.job,
        owner: info.job,
        name,
      }),
    };
  }),

  rpc('DeleteArtifact', 'delete one of the job’s own artifacts', async (deps, ctx, body) => {
    const g = grantOf(ctx);
    checkRun(g, body);
    const info = await deps.artifacts.delete(g.buildId, g.job, nameOf(body));
    return { ok: true, artifact_id: String(info.id ?? 0) };
  }),

  {
    method: 'put',
    path: `${blobPath}/upload`,
    handler: (deps) => async (ctx) => {
      const s = await blob(deps, ctx, 'upload');
      const comp = ctx.query.comp;
      if (comp === 'block') {
        await deps.artifacts.stageBlock(s.buildId, s.owner, s.name, String(ctx.query.blockid ?? ''), ctx.req);
      } else if (comp === 'blocklist') {
        const xml = (await readRawBody(ctx.req, 4 * 1024 * 1024)).toString('utf8');
        const ids = [...xml.matchAll(/<(Latest|Committed|Uncommitted)>([^<]*)<\/\1>/g)].map((m) =>
          m[2]!.trim(),
        );
        await deps.artifacts.commitBlocks(s.buildId, s.owner, s.name, ids);
      } else throw new InvalidRequestError('send ?comp=block&blockid=… or ?comp=blocklist');
      // Azure answers 201 to both, and its SDK takes nothing else for success.
      ctx.status = 201;
    },
    doc: {
      summary:
        'Signed upload URL (Azure block blob): ?comp=block&blockid= stages a block, ?comp=blocklist joins them',
      responses: {
        '201': { description: 'Staged, or joined' },
        ...badBlob,
        '413': error('Past PUSHCI_ARTIFACT_MAX_BYTES'),
      },
    },
  },
  {
    method: 'get',
    path: `${blobPath}/download`,
    handler: (deps) => async (ctx) => {
      const s = await blob(deps, ctx, 'download');
      const { info, stream } = await deps.artifacts.open(s.buildId, s.name);
      const f = artifactFileOf(info);
      ctx.type = f.type;
      ctx.length = info.size;
      ctx.attachment(f.file, { fallback: true });
      ctx.body = stream;
    },
    doc: {
      summary: 'Signed download URL of an artifact of the job’s build',
      responses: {
        '200': { description: 'The bytes (application/zip, or the file)' },
        ...badBlob,
        '404': error('No such artifact'),
      },
    },
  },
];
