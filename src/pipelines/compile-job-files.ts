import { scanCacheKey } from './cache-key.ts';
import { list, type CompileContext, type Path } from './compile-context.ts';
import { GlobSyntaxError, parseGlob } from './glob.ts';
import type { ArtifactDef, CacheDef } from './pipeline.ts';
import type { PipelineFile } from './schema.ts';

type WrittenJob = PipelineFile['jobs'][string];

/** What a cache key may use, as its error says. */
const CACHE_KEY_EXPRESSIONS =
  "${{ hashFiles('…') }}, ${{ runner.os }}, ${{ runner.arch }}, ${{ env.NAME }} and ${{ secrets.NAME }}";

/** A job's `cache:`: keys (with their references) and paths that stay inside the checkout or ~/. */
export function compileCaches(cx: CompileContext, j: WrittenJob, jp: Path): CacheDef[] {
  const cp: Path = [...jp, 'cache'];
  return (list(j.cache) ?? []).map((c, i) => {
    const at: Path = Array.isArray(j.cache) ? [...cp, i] : cp;
    const { rest, problems } = scanCacheKey(c.key);
    for (const p of problems) cx.report(cx.pos.inString([...at, 'key'], p.offset), p.message);
    cx.checkRefs(rest, [...at, 'key'], CACHE_KEY_EXPRESSIONS);
    const paths = list(c.paths)!;
    paths.forEach((p, k) =>
      cx.checkPath(p, Array.isArray(c.paths) ? [...at, 'paths', k] : [...at, 'paths'], true),
    );
    const restoreKeys = list(c['restore-keys']) ?? [];
    restoreKeys.forEach((r, k) => {
      const rp = Array.isArray(c['restore-keys']) ? [...at, 'restore-keys', k] : [...at, 'restore-keys'];
      const scanned = scanCacheKey(r);
      for (const p of scanned.problems) cx.report(cx.pos.inString(rp, p.offset), p.message);
      cx.checkRefs(scanned.rest, rp, CACHE_KEY_EXPRESSIONS);
    });
    return { key: c.key, paths, restoreKeys };
  });
}

/**
 * A job's `artifacts:`: patterns inside the checkout, names unique in the pipeline (`owners` records them),
 * so not in a matrix job of several `combinations`.
 */
export function compileArtifacts(
  cx: CompileContext,
  j: WrittenJob,
  jp: Path,
  jobId: string,
  artifactOwners: Map<string, string>,
  combinations: number,
): ArtifactDef[] {
  const ap: Path = [...jp, 'artifacts'];
  return (list(j.artifacts) ?? []).map((a, i) => {
    const at: Path = Array.isArray(j.artifacts) ? [...ap, i] : ap;
    const paths = list(a.paths)!;
    paths.forEach((p, k) => {
      const pp = Array.isArray(a.paths) ? [...at, 'paths', k] : [...at, 'paths'];
      cx.checkPath(p, pp, false);
      try {
        parseGlob(p);
      } catch (err) {
        if (!(err instanceof GlobSyntaxError)) throw err;
        cx.report(
          cx.pos.inString(pp, err.offset + (p.startsWith('!') ? 1 : 0)),
          `bad pattern "${p}": ${err.message}`,
        );
      }
    });
    // Every combination would upload the same name: the second one's upload is refused at run time.
    if (combinations > 1)
      cx.report(
        cx.pos.of([...at, 'name']),
        `artifact "${a.name}" would be uploaded by each of the ${combinations} combinations of matrix job "${jobId}", and names are unique in a build: artifacts: cannot be used in a matrix job (upload-artifact through the artifact protocol can, with a name per combination)`,
      );
    const earlier = artifactOwners.get(a.name);
    if (earlier)
      cx.report(
        cx.pos.of([...at, 'name']),
        `artifact "${a.name}" is also made by job "${earlier}"; names are unique in a pipeline`,
      );
    else artifactOwners.set(a.name, jobId);
    return { name: a.name, paths };
  });
}
