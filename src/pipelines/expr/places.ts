import type { ContextName, Place } from './check-expression.ts';

/**
 * Where an expression may appear and what it may use there, after GitHub's context availability table
 * (https://docs.github.com/actions/reference/accessing-contextual-information-about-workflow-runs#context-availability).
 */
export type PlaceName =
  | 'workflow env'
  | 'a concurrency group'
  | 'concurrency.cancel-in-progress'
  | "a job's if:"
  | "a job's name"
  | "a job's env"
  | "a job's runs-on"
  | "a job's continue-on-error"
  | "a job's timeout-minutes"
  | "a job's strategy"
  | "a job's outputs"
  | "a step's if:"
  | "a step's name"
  | "a step's env"
  | "a step's run"
  | "a step's with:"
  | "a step's working-directory"
  | "a step's continue-on-error"
  | "a step's timeout-minutes";

const STEP: ContextName[] = [
  'github',
  'needs',
  'strategy',
  'matrix',
  'job',
  'runner',
  'env',
  'vars',
  'secrets',
  'steps',
  'inputs',
];
const JOB: ContextName[] = ['github', 'needs', 'strategy', 'matrix', 'vars', 'inputs'];

const CONTEXTS: Record<PlaceName, { contexts: ContextName[]; status?: boolean; workspace?: boolean }> = {
  'workflow env': { contexts: ['github', 'env', 'secrets', 'vars', 'inputs'] },
  'a concurrency group': { contexts: ['github', 'inputs'] },
  'concurrency.cancel-in-progress': { contexts: ['github', 'inputs'] },
  "a job's if:": { contexts: ['github', 'needs', 'vars', 'inputs'], status: true },
  "a job's name": { contexts: JOB },
  "a job's env": { contexts: [...JOB, 'env', 'secrets'] },
  // Decided when the file is loaded, like a job's timeout.
  "a job's runs-on": { contexts: ['matrix', 'strategy'] },
  // Decided when the file is loaded, so only what is known then.
  "a job's continue-on-error": { contexts: ['matrix', 'strategy'] },
  "a job's timeout-minutes": { contexts: ['matrix', 'strategy'] },
  "a job's strategy": { contexts: ['github', 'needs', 'vars', 'inputs'] },
  "a job's outputs": { contexts: STEP },
  "a step's if:": { contexts: STEP.filter((c) => c !== 'secrets'), status: true, workspace: true },
  "a step's name": { contexts: STEP, workspace: true },
  "a step's env": { contexts: STEP, workspace: true },
  "a step's run": { contexts: STEP, workspace: true },
  "a step's with:": { contexts: STEP, workspace: true },
  "a step's working-directory": { contexts: STEP, workspace: true },
  "a step's continue-on-error": { contexts: STEP, workspace: true },
  "a step's timeout-minutes": { contexts: STEP, workspace: true },
};

/** The Place for `name`, with the name checks that apply in the surrounding job. */
export function place(name: PlaceName, names: Place['names'] = {}): Place {
  const c = CONTEXTS[name];
  return {
    label: name,
    contexts: c.contexts,
    ...(c.status ? { status: true } : {}),
    ...(c.workspace ? { workspace: true } : {}),
    names,
  };
}
