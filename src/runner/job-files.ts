import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { resolveCacheKey } from '../pipelines/cache-key.ts';
import type { JobDef } from '../pipelines/pipeline.ts';
import type { JobDirs, JobRuntime } from './backend.ts';
import type { JobFilesClient } from './job-files-client.ts';
import { splitLines } from './run-step.ts';
import { hashFiles, selectFiles } from './workspace-files.ts';
import { runnerContext } from './contexts.ts';
import { formatBytes } from '../format-bytes.ts';

export interface JobFilesContext {
  runtime: JobRuntime;
  dirs: JobDirs;
  client: JobFilesClient;
  /** The server's environment, for `${{ env.* }}` in cache keys. */
  serverEnv: Readonly<Record<string, string>>;
  secrets: Set<string>;
  /** pushci's own lines in the job log. */
  say(line: string): void;
  /** A line a helper printed on stderr. */
  stderr(line: string): void;
  signal: AbortSignal;
}

/** A cache as resolved for one job: its key (exact hit or not) and where its files live. */
export interface ResolvedCache {
  key: string;
  restoreKeys: string[];
  version: string;
  paths: string[];
  /** The key itself was found (nothing to save afterwards). */
  exactHit: boolean;
}

// Both run INSIDE the job's sandbox, as the job: a symlink the job planted can only lead to places the
// job may write anyway, and nothing of the worker's is in reach. Caches hold two roots: `w/` is the
// checkout, `h/` the job's home; the arguments are data, never spliced into the script.
const PACK_CACHE = `set -e
d=$(mktemp -d /tmp/.pushci-cache.XXXXXX)
trap 'rm -rf "$d"' EXIT
ln -s "$1" "$d/w"; ln -s "$2" "$d/h"; shift 2
cd "$d"
for p; do if [ -e "$p" ] || [ -L "$p" ]; then printf '%s\\0' "$p"; fi; done > "$d/.list"
[ -s "$d/.list" ] || { echo "none of the cache's paths exist" >&2; exit 3; }
tar -czf - --null -T "$d/.list"`;
const UNPACK_CACHE = `set -e
d=$(mktemp -d /tmp/.pushci-cache.XXXXXX)
trap 'rm -rf "$d"' EXIT
ln -s "$1" "$d/w"; ln -s "$2" "$d/h"
cd "$d"
tar -xzf - --no-same-owner`;
const PACK_FILES = `set -e
cd "$1"
tar -czf - --null -T "$2"`;
const UNPACK_FILES = `set -e
cd "$1"
tar -xzf - --no-same-owner`;

/** Runs a helper script in the job's runtime; its stdout is returned as a stream. */
async function inside(
  ctx: JobFilesContext,
  script: string,
  args: string[],
  stdin?: Readable,
): Promise<{ stdout: Readable; exit: Promise<number | null> }> {
  const env: Record<string, string> = { LANG: 'C.UTF-8', ...ctx.runtime.env };
  if (ctx.serverEnv.PATH) env.PATH = ctx.serverEnv.PATH;
  const step = await ctx.runtime.start({
    argv: ['/bin/sh', '-c', script, 'pushci-files', ...args],
    cwd: ctx.dirs.src,
    env,
    ...(stdin ? { stdin } : {}),
  });
  // In pieces of at most 64 KiB: tar names an archive's members in its errors, and a restored archive
  // is the job's (a 600 KB gzip can name one 600 MB long, past what one string in the worker can hold).
  void splitLines(step.stderr, ctx.stderr);
  const onAbort = () => void step.kill(1000);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const exit = step.exit.then(async (r) => {
    ctx.signal.removeEventListener('abort', onAbort);
    await step.kill(1000);
    return r.exitCode;
  });
  return { stdout: step.stdout, exit };
}

/**
 * A packing helper's output as an upload body; a failed tar must fail the upload (`why` says how), not
 * save half an archive. The upload hears of that by reading, and `checked` gives the exit code.
 */
function packed(
  run: { stdout: Readable; exit: Promise<number | null> },
  why: (code: number | null) => string,
): { body: PassThrough; checked: Promise<number | null> } {
  const body = new PassThrough();
  // With no reader yet (a cache's reservation still on its way) an 'error' event nobody listens to
  // would be an uncaught exception: the end of the whole worker, web server included.
  body.on('error', () => {});
  run.stdout.pipe(body);
  const checked = run.exit.then((code) => {
    if (code !== 0) body.destroy(new Error(why(code)));
    return code;
  });
  return { body, checked };
}

/** The job's home as its steps see it. */
const homeOf = (ctx: JobFilesContext) => ctx.runtime.env.HOME ?? ctx.serverEnv.HOME ?? ctx.dirs.home;

/** `node_modules` → `w/node_modules`; `~/.npm` → `h/.npm`. */
const cacheMember = (p: string) => (p.startsWith('~/') ? `h/${p.slice(2)}` : `w/${p}`).replace(/\/+$/, '');

/** Resolves the job's cache keys (hashFiles over the checkout as it is now). */
export async function resolveCaches(ctx: JobFilesContext, job: JobDef): Promise<ResolvedCache[]> {
  const hash = (patterns: string[]) => hashFiles(ctx.dirs.src, patterns);
  const { os, arch } = runnerContext(ctx.dirs.tmp) as { os: string; arch: string };
  const out: ResolvedCache[] = [];
  for (const c of job.caches ?? []) {
    const key = await resolveCacheKey(c.key, ctx.serverEnv, hash, { os, arch }, ctx.secrets);
    const restoreKeys: string[] = [];
    for (const r of c.restoreKeys)
      restoreKeys.push(await resolveCacheKey(r, ctx.serverEnv, hash, { os, arch }, ctx.secrets));
    const version = createHash('sha256')
      .update(['pushci-cache-v1', ...c.paths].join('\n'))
      .digest('hex')
      .slice(0, 32);
    out.push({ key, restoreKeys, version, paths: c.paths, exactHit: false });
  }
  return out;
}

/** Restores each cache (the key, else the newest restore-key match); a failure is a warning, never fatal. */
export async function restoreCaches(ctx: JobFilesContext, caches: ResolvedCache[]): Promise<void> {
  for (const c of caches) {
    try {
      const hit = await ctx.client.lookupCache([c.key, ...c.restoreKeys], c.version);
      if (!hit) {
        ctx.say(`pushci: cache "${c.key}": not found, nothing restored`);
        continue;
      }
      const started = Date.now();
      const body = await ctx.client.downloadCache(hit.id);
      const run = await inside(ctx, UNPACK_CACHE, [ctx.dirs.src, homeOf(ctx)], body);
      run.stdout.resume();
      const code = await run.exit;
      if (code !== 0) throw new Error(`unpacking failed (exit code ${code})`);
      c.exactHit = hit.key === c.key;
      ctx.say(
        `pushci: cache "${c.key}": restored ${hit.key === c.key ? '' : `from "${hit.key}" `}(${formatBytes(hit.size)} in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    } catch (err) {
      ctx.say(`pushci: cache "${c.key}": could not restore it: ${(err as Error).message}`);
    }
  }
}

/** Saves each cache whose key was not restored exactly; a failure is a warning, never fatal. */
export async function saveCaches(ctx: JobFilesContext, caches: ResolvedCache[]): Promise<void> {
  for (const c of caches) {
    if (c.exactHit) {
      ctx.say(`pushci: cache "${c.key}": restored exactly, not saved again`);
      continue;
    }
    try {
      const started = Date.now();
      const run = await inside(ctx, PACK_CACHE, [ctx.dirs.src, homeOf(ctx), ...c.paths.map(cacheMember)]);
      const { body, checked } = packed(run, (code) =>
        code === 3 ? 'none of its paths exist' : `tar failed (exit code ${code})`,
      );
      const saving = ctx.client.saveCache(c.key, c.version, body);
      const [code, result] = await Promise.all([checked, saving.catch((e: Error) => e)]);
      if (code === 3) {
        ctx.say(`pushci: cache "${c.key}": none of its paths exist, nothing saved`);
        continue;
      }
      if (result instanceof Error) throw result;
      ctx.say(
        result.saved
          ? `pushci: cache "${c.key}": saved (${formatBytes(result.size)} in ${((Date.now() - started) / 1000).toFixed(1)} s)`
          : `pushci: cache "${c.key}": exists already, not saved`,
      );
    } catch (err) {
      ctx.say(`pushci: cache "${c.key}": could not save it: ${(err as Error).message}`);
    }
  }
}

/** Unpacks the artifacts the job asked for into its checkout. A missing one is said, not fatal. */
export async function downloadArtifacts(ctx: JobFilesContext, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const body = await ctx.client.downloadArtifact(name);
    if (!body) {
      ctx.say(`pushci: artifact "${name}": the build has none (did the job that makes it succeed?)`);
      continue;
    }
    const run = await inside(ctx, UNPACK_FILES, [ctx.dirs.src], body);
    run.stdout.resume();
    const code = await run.exit;
    if (code !== 0) throw new Error(`could not unpack artifact "${name}" (exit code ${code})`);
    ctx.say(`pushci: artifact "${name}": unpacked into the checkout`);
  }
}

/** Uploads the job's artifacts; throws (failing the job) when an upload fails. */
export async function uploadArtifacts(ctx: JobFilesContext, job: JobDef): Promise<void> {
  for (const [i, a] of (job.artifacts ?? []).entries()) {
    const files = await selectFiles(ctx.dirs.src, a.paths);
    if (files.length === 0) {
      ctx.say(`pushci: artifact "${a.name}": no file matches ${a.paths.join(', ')}; nothing uploaded`);
      continue;
    }
    const list = join(ctx.dirs.scripts, `artifact-${i}.list`);
    await writeFile(list, files.map((f) => `${f}\0`).join(''), { mode: 0o644 });
    const run = await inside(ctx, PACK_FILES, [ctx.dirs.src, list]);
    const { body, checked } = packed(run, (code) => `tar failed (exit code ${code})`);
    const [code, result] = await Promise.all([
      checked,
      ctx.client.uploadArtifact(a.name, body).catch((e: Error) => e),
    ]);
    if (code !== 0) throw new Error(`could not pack artifact "${a.name}" (exit code ${code})`);
    if (result instanceof Error) throw new Error(`could not upload artifact "${a.name}": ${result.message}`);
    ctx.say(
      `pushci: artifact "${a.name}": uploaded ${files.length} file${files.length === 1 ? '' : 's'} (${formatBytes(result.size)})`,
    );
  }
}
