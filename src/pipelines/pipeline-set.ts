import type { Diagnostic } from './diagnostic.ts';
import type { Pipeline } from './pipeline.ts';

/** The pipelines in force and the problems of the last load; swapped whole on a good reload. */
export interface PipelineSet {
  pipelines: readonly Pipeline[];
  diagnostics: readonly Diagnostic[];
  loadedAt: string;
}
