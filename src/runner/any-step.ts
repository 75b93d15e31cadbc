import type { ActionStep } from '../pipelines/action-file.ts';
import type { StepDef } from '../pipelines/pipeline.ts';

/** A step of either kind, the way runSteps needs it. */
export interface AnyStep {
  id: string | null;
  name: string;
  nameTemplate: boolean;
  if: string | null;
  script: string | null;
  expressions: Array<{ variable: string; source: string }>;
  shell: string | null;
  uses: string | null;
  with: Record<string, string>;
  env: Record<string, string>;
  workingDirectory: string | null;
  timeoutMinutes: number | string | null;
  continueOnError: boolean | string;
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
