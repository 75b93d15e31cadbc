import type { ActionStep } from '../pipelines/action-def.ts';
import type { StepDef } from '../pipelines/pipeline.ts';

/** A step of either kind, the way runSteps needs it: a composite action's step, and what only a job's step has. */
export interface AnyStep extends ActionStep {
  nameTemplate: boolean;
  timeoutMinutes: number | string | null;
}

export const fromStepDef = (s: StepDef): AnyStep => ({
  id: s.id ?? null,
  name: s.name,
  nameTemplate: s.nameTemplate ?? false,
  if: s.if ?? null,
  script: s.uses !== undefined ? null : (s.script ?? s.run),
  expressions: s.expressions ?? [],
  shell: s.shell,
  uses: s.uses ?? null,
  with: s.with ?? {},
  env: s.env,
  workingDirectory: s.workingDirectory,
  timeoutMinutes: s.timeoutMinutes,
  continueOnError: s.continueOnError,
});

export const fromActionStep = (s: ActionStep): AnyStep => ({
  ...s,
  nameTemplate: s.name.includes('${{'),
  timeoutMinutes: null,
});
