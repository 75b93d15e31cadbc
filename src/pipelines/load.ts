import { readFile, readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { Diagnostic } from './diagnostic.ts';
import { loadPipelineSource } from './load-pipeline-source.ts';
import type { Pipeline } from './pipeline.ts';

export interface LoadResult {
  pipelines: Pipeline[];
  diagnostics: Diagnostic[];
  /** Each file on its own, in name order: what it defines (null when it has problems) and its problems. */
  files: FileResult[];
}

export interface FileResult {
  /** The file's name in the pipelines folder: what identifies it across reloads and restarts. */
  name: string;
  /** The path diagnostics show. */
  file: string;
  pipeline: Pipeline | null;
  diagnostics: Diagnostic[];
}

/** Loads every `*.yml`/`*.yaml` in `dir` (sorted), reporting all problems of all files, duplicates included. */
export async function loadPipelines(dir: string, env: Readonly<Record<string, string>>): Promise<LoadResult> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (err) {
    throw new ConfigError(
      `cannot read the pipelines folder ${dir} (${(err as NodeJS.ErrnoException).code}); set PUSHCI_PIPELINES or --pipelines`,
    );
  }
  const pipelines: Pipeline[] = [];
  const diagnostics: Diagnostic[] = [];
  const files: FileResult[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const full = join(dir, name);
    const shown = relative(process.cwd(), full) || name;
    if (!(await stat(full)).isFile()) continue;
    const result = loadPipelineSource(shown, await readFile(full), env);
    const own: FileResult = { name, file: shown, pipeline: null, diagnostics: result.diagnostics };
    files.push(own);
    diagnostics.push(...result.diagnostics);
    const p = result.pipeline;
    if (!p) continue;
    const first = seen.get(p.name);
    if (first) {
      const d = {
        file: shown,
        ...(result.nameAt ?? { line: 1, col: 1 }),
        message: `pipeline name "${p.name}" is already used by ${first}`,
      };
      diagnostics.push(d);
      own.diagnostics = [...own.diagnostics, d];
      continue;
    }
    seen.set(p.name, shown);
    // A relative local clone-url means "relative to this file", not to wherever a worker runs.
    if (
      p.cloneUrl &&
      !/^[a-z][a-z0-9+.-]*:/i.test(p.cloneUrl) &&
      !/^[^/]+@[^/]+:/.test(p.cloneUrl) &&
      !isAbsolute(p.cloneUrl) &&
      !p.cloneUrl.includes('${{')
    ) {
      p.cloneUrl = resolve(dir, p.cloneUrl);
    }
    pipelines.push(p);
    own.pipeline = p;
  }
  return { pipelines, diagnostics, files };
}
