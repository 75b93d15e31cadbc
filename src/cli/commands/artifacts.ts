import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { ApiClient } from '../../api-client.ts';
import type { ArtifactInfo } from '../../artifacts/artifact-info.ts';
import { extractZip } from '../../artifacts/extract-zip.ts';
import { loadConfig } from '../../config.ts';
import { SETTINGS } from '../../settings.ts';
import { ConfigError } from '../../errors.ts';
import type { RawCommand } from '../command.ts';
import { resolveBuild } from '../resolve-build.ts';

export const ARTIFACTS_USAGE = `pushci artifacts: list and download a build's artifacts

Usage:
  pushci artifacts <build> [--json]    the build's artifacts: name, job, size, expiry
  pushci artifacts <build> <name> [--output FILE|-] [--extract DIR]
                                       download one as uploaded: a .tar.gz (artifacts: key), a .zip
                                       (upload-artifact / @actions/artifact) or the single file it sent
                                       (default <pipeline>-<number>-<name>.tar.gz|.zip here; - writes to
                                       stdout), or unpack it into DIR

Talks to a running server (PUSHCI_URL, PUSHCI_API_TOKEN).`;

const size = (n: number) =>
  n >= 1024 * 1024
    ? `${(n / 1024 / 1024).toFixed(1)} MB`
    : n >= 1024
      ? `${(n / 1024).toFixed(1)} kB`
      : `${n} B`;

export async function artifactsCommand(argv: string[], env = process.env): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    json: { type: 'boolean' },
    output: { type: 'string', short: 'o' },
    extract: { type: 'string' },
  };
  for (const s of SETTINGS) options[s.flag] ??= { type: s.kind === 'bool' ? 'boolean' : 'string' };
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const [build, name] = positionals;
  if (values.help || !build) {
    console.log(ARTIFACTS_USAGE);
    return build || values.help ? 0 : 2;
  }
  const api = new ApiClient(loadConfig(env, values as Record<string, string | boolean>));
  const id = encodeURIComponent(await resolveBuild(api, build));
  if (!name) {
    const { artifacts } = await api.json<{ artifacts: Array<ArtifactInfo & { url: string }> }>(
      `/api/builds/${id}/artifacts`,
    );
    if (values.json) console.log(JSON.stringify(artifacts, null, 2));
    else if (artifacts.length === 0) console.log(`build ${build} has no artifacts`);
    else
      for (const a of artifacts)
        console.log(
          `${a.name.padEnd(24)} ${a.job.padEnd(16)} ${size(a.size).padStart(10)}  expires ${a.expires_at.slice(0, 10)}`,
        );
    return 0;
  }
  const res = await api.fetch(`/api/builds/${id}/artifacts/${encodeURIComponent(name)}`);
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { message?: string } | null;
    throw new ConfigError(`${res.status}: ${body?.message ?? res.statusText}`);
  }
  const body = Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream<Uint8Array>);
  const type = res.headers.get('content-type') ?? '';
  const named = /filename="([^"/\\]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
  if (typeof values.extract === 'string' && !type.startsWith('application/gzip')) {
    const dir = values.extract;
    await mkdir(dir, { recursive: true });
    if (!type.startsWith('application/zip')) {
      // A single file (upload-artifact's `archive: false`): it goes into DIR under its own name.
      const file = join(dir, named ?? name);
      await pipeline(body, createWriteStream(file));
      console.error(`wrote ${file}`);
      return 0;
    }
    // A zip's directory is at its end: spool it, then unpack (members outside DIR and symlinks are skipped).
    const tmp = await mkdtemp(join(tmpdir(), 'pushci-artifact-'));
    try {
      await pipeline(body, createWriteStream(join(tmp, 'a.zip')));
      const { files, skipped } = await extractZip(join(tmp, 'a.zip'), dir);
      for (const s of skipped) console.error(`skipped ${s} (outside ${dir}, or a symlink)`);
      console.error(`unpacked ${name} (${files} file${files === 1 ? '' : 's'}) into ${dir}`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return 0;
  }
  if (typeof values.extract === 'string') {
    const dir = values.extract;
    await mkdir(dir, { recursive: true });
    // GNU tar drops leading "/" and refuses ".." members: nothing lands outside DIR.
    const tar = spawn('tar', ['-xzf', '-', '-C', dir, '--no-same-owner'], {
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    const done = new Promise<number | null>((r) => tar.once('close', r));
    await pipeline(body, tar.stdin);
    const code = await done;
    if (code !== 0) throw new ConfigError(`tar could not unpack the artifact (exit code ${code})`);
    console.error(`unpacked ${name} into ${dir}`);
    return 0;
  }
  const file = typeof values.output === 'string' ? values.output : (named ?? `${name}.tar.gz`);
  if (file === '-') await pipeline(body, process.stdout);
  else {
    await pipeline(body, createWriteStream(file));
    console.error(`wrote ${file}`);
  }
  return 0;
}

export const artifacts: RawCommand = {
  name: 'artifacts',
  summary:
    "Lists a build's artifacts, or downloads one (.tar.gz, .zip or a file) or unpacks it into a folder.",
  usage: '<build> [<name> [--output FILE|-] [--extract DIR]]',
  raw: (argv) => artifactsCommand(argv),
};
