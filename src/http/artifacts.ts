import type { Context } from 'koa';
import { artifactFileOf } from '../artifacts/artifact-info.ts';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import { NotFoundError } from '../errors.ts';
import type { BuildStore } from '../queue/store.ts';

export interface ArtifactsDeps {
  store: BuildStore;
  artifacts: ArtifactStore;
  publicUrl: string;
}

async function build(deps: ArtifactsDeps, id: string) {
  const record = /^[0-9a-z]{1,64}$/.test(id) ? await deps.store.get(id) : null;
  if (!record) throw new NotFoundError(`no build ${id}`);
  return record;
}

/** `GET /api/builds/:id/artifacts`: the build's artifacts, each with its download URL. */
export function listArtifacts(deps: ArtifactsDeps) {
  return async (ctx: Context) => {
    const record = await build(deps, ctx.params.id!);
    const list = await deps.artifacts.list(record.meta.id);
    ctx.body = {
      artifacts: list.map((a) => ({
        ...a,
        url: `${deps.publicUrl}/api/builds/${record.meta.id}/artifacts/${encodeURIComponent(a.name)}`,
      })),
    };
  };
}

/**
 * `GET /api/builds/:id/artifacts/:name`: the artifact as it was uploaded: a `.tar.gz` (the `artifacts:`
 * key), a `.zip` (upload-artifact), or the single file an `archive: false` upload sent.
 */
export function downloadArtifact(deps: ArtifactsDeps) {
  return async (ctx: Context) => {
    const record = await build(deps, ctx.params.id!);
    const { info, stream } = await deps.artifacts.open(record.meta.id, ctx.params.name!);
    const f = artifactFileOf(info);
    ctx.type = f.type;
    ctx.length = info.size;
    const file = info.format === 'file' ? f.file : `${record.meta.pipeline}-${record.number}-${f.file}`;
    ctx.attachment(file, { fallback: true });
    ctx.body = stream;
  };
}
