import { basename } from 'node:path';
import { NotFoundError } from '../errors.ts';
import { formatDiagnostic } from '../pipelines/diagnostic.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import type { PipelineFileState } from '../pipelines/pipeline-set.ts';

const stem = (file: string) => basename(file).replace(/\.ya?ml$/, '');

/**
 * The pipeline a user means: by its id (`name:`), else by its file (`pipelines/gha.yml`, `gha.yml` or
 * `gha`) when only one file fits. A `NotFoundError` otherwise, whose details list the pipelines that
 * exist (`pipelines: [{name, file}]`) so a client can say what was meant.
 */
export function findPipeline(
  pipelines: readonly Pipeline[],
  wanted: string,
  /** The folder's files with their state: a file that has problems and no version in force is named. */
  files: readonly PipelineFileState[] = [],
): Pipeline {
  const byName = pipelines.find((p) => p.name === wanted);
  if (byName) return byName;
  const path = wanted.replace(/^(\.\/)+/, '');
  const byFile = pipelines.filter(
    (p) =>
      p.file === path ||
      p.file.endsWith(`/${path}`) ||
      (!path.includes('/') && (basename(p.file) === path || stem(p.file) === path)),
  );
  if (byFile.length === 1) return byFile[0]!;
  const broken = files.find(
    (f) =>
      f.state === 'none' &&
      (f.name === path || f.file === path || f.file.endsWith(`/${path}`) || stem(f.name) === path),
  );
  if (byFile.length === 0 && broken) {
    const first = broken.diagnostics[0];
    throw new NotFoundError(
      `${broken.file} is not loaded: it has ${broken.diagnostics.length} problem(s)${first ? `, the first: ${formatDiagnostic(first)}` : ''} (pushci validate lists them)`,
      { pipelines: pipelines.map((p) => ({ name: p.name, file: p.file })) },
    );
  }
  const list = pipelines.map((p) => ({ name: p.name, file: p.file }));
  const names = list.map((p) => `${p.name} (${p.file})`).join(', ') || 'none';
  throw new NotFoundError(
    byFile.length > 1
      ? `"${wanted}" fits several pipelines' files: say one by name (${byFile.map((p) => p.name).join(', ')})`
      : `no pipeline "${wanted}"; the pipelines are: ${names}`,
    { pipelines: list },
  );
}
