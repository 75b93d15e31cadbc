import type { JobResult } from '../builds/lifecycle.ts';
import type { EvalContext } from '../pipelines/expr/evaluate.ts';
import { jobOutputs, type StepFileState } from './step-files.ts';

/** What a job hands on when it ends: its outputs, its steps' annotations and summary. */
export type JobEnding = Required<Pick<JobResult, 'outputs' | 'annotations' | 'summary'>>;

/**
 * A job's outputs, annotations and summary, masked: what leaves the job (Redis, the API, payloads) is
 * masked, and an output holding a secret is dropped, as on GitHub.
 */
export function jobEnding(o: {
  outputs: Readonly<Record<string, string>>;
  ctx: EvalContext;
  fromSteps: StepFileState;
  mask: (line: string) => string;
  say: (line: string) => void;
}): JobEnding {
  const { mask } = o;
  const outputs = jobOutputs(o.outputs, o.ctx, (m) => o.say(`pushci: ${m}`));
  for (const [k, v] of Object.entries(outputs)) {
    if (mask(v) === v) continue;
    delete outputs[k];
    o.say(`pushci: output "${k}" is left out: it holds a secret or a masked value`);
  }
  return {
    outputs,
    annotations: o.fromSteps.annotations.map((a) => ({
      ...a,
      message: a.message.split('\n').map(mask).join('\n'),
      title: a.title === null ? null : mask(a.title),
      // The step printed the file too (`::error file=…::`), and may be named with expressions.
      file: a.file === null ? null : mask(a.file),
      step: mask(a.step),
    })),
    summary: o.fromSteps.summary.split('\n').map(mask).join('\n'),
  };
}
