import type { Diagnostic } from './diagnostic.ts';
import type { LoadResult } from './load.ts';
import type { Pipeline } from './pipeline.ts';

/** What one file of the pipelines folder contributes right now. */
export interface PipelineFileState {
  /** The file's name in the pipelines folder (what identifies it across reloads and restarts). */
  name: string;
  /** The path diagnostics show. */
  file: string;
  /**
   * `ok`: the file is good and in force. `last-good`: it has problems, and the last good version of it
   * stays in force. `none`: it has problems and no version of it is in force (it never loaded, or its
   * last good version's name is now taken by a good file).
   */
  state: 'ok' | 'last-good' | 'none';
  /** The name of the pipeline in force from this file, or null. */
  pipeline: string | null;
  /** When the version in force was loaded. */
  since: string | null;
  diagnostics: readonly Diagnostic[];
}

/**
 * The pipelines in force. Files are isolated from each other: each good file is in force as it is, each
 * broken one with its last good version (or not at all), so one bad edit never holds back the others.
 */
export interface PipelineSet {
  pipelines: readonly Pipeline[];
  /** Every problem of every file. */
  diagnostics: readonly Diagnostic[];
  files: readonly PipelineFileState[];
  loadedAt: string;
}

/** A version of a file that was good once, and when it was loaded. */
export interface LastGood {
  pipeline: Pipeline;
  since: string;
}

export const EMPTY_PIPELINE_SET: PipelineSet = {
  pipelines: [],
  diagnostics: [],
  files: [],
  loadedAt: new Date(0).toISOString(),
};

/** The version of each file `set` has in force, by file name: what a broken file falls back to. */
export function inForce(set: PipelineSet): Map<string, LastGood> {
  const byName = new Map(set.pipelines.map((p) => [p.name, p]));
  const out = new Map<string, LastGood>();
  for (const f of set.files) {
    const p = f.pipeline === null ? undefined : byName.get(f.pipeline);
    if (p && f.since) out.set(f.name, { pipeline: p, since: f.since });
  }
  return out;
}

/**
 * The set from a fresh load: good files as loaded, broken ones replaced by their last good version when
 * `lastGood` knows one. A good file's pipeline name wins over a fallback's, so a name is never served twice.
 */
export function composePipelineSet(
  loaded: LoadResult,
  lastGood: ReadonlyMap<string, LastGood>,
  now = new Date().toISOString(),
): PipelineSet {
  const taken = new Set(loaded.files.flatMap((f) => (f.pipeline ? [f.pipeline.name] : [])));
  const pipelines: Pipeline[] = [];
  const files: PipelineFileState[] = [];
  for (const f of loaded.files) {
    const base = { name: f.name, file: f.file, diagnostics: f.diagnostics };
    const previous = lastGood.get(f.name);
    if (f.pipeline) {
      pipelines.push(f.pipeline);
      // A file that did not change (another file's edit reloaded the folder) keeps its time.
      const same = previous !== undefined && JSON.stringify(previous.pipeline) === JSON.stringify(f.pipeline);
      files.push({ ...base, state: 'ok', pipeline: f.pipeline.name, since: same ? previous.since : now });
      continue;
    }
    if (previous && !taken.has(previous.pipeline.name)) {
      taken.add(previous.pipeline.name);
      pipelines.push(previous.pipeline);
      files.push({ ...base, state: 'last-good', pipeline: previous.pipeline.name, since: previous.since });
    } else files.push({ ...base, state: 'none', pipeline: null, since: null });
  }
  return { pipelines, diagnostics: loaded.diagnostics, files, loadedAt: now };
}
