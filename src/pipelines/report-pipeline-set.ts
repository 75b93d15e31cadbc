import type { Logger } from '../log.ts';
import { formatDiagnostic } from './diagnostic.ts';
import type { PipelineSet } from './pipeline-set.ts';

/** Logs a new set: each problem as `file:line:col: message`, and what each broken file serves instead. */
export function reportPipelineSet(
  set: PipelineSet,
  log: Logger,
  verb: 'loaded' | 'reloaded',
  dir: string,
): void {
  for (const f of set.files) {
    if (f.state === 'ok') continue;
    for (const d of f.diagnostics) {
      const problem = formatDiagnostic(d);
      log.error({ problem }, `pipeline problem: ${problem}`);
    }
    if (f.state === 'last-good')
      log.warn(
        { file: f.file, pipeline: f.pipeline, since: f.since },
        `${f.file} is broken: its last good version (pipeline "${f.pipeline}", loaded ${f.since}) stays in force until it is fixed`,
      );
    else
      log.warn(
        { file: f.file },
        `${f.file} is broken and has no good version to fall back to: it defines no pipeline until it is fixed`,
      );
  }
  log.info(
    { pipelines: set.pipelines.map((p) => p.name), problems: set.diagnostics.length, dir },
    `pipelines ${verb}`,
  );
}
