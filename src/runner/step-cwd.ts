import { realpath } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import type { EvalContext } from '../pipelines/expr/evaluate.ts';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { renderTemplate } from '../pipelines/expr/template.ts';
import type { AnyStep } from './any-step.ts';
import type { Frame } from './step-context.ts';
import type { Plan } from './step-plan.ts';
import type { StepsJob } from './steps-job.ts';

const inside = (p: string, root: string) => p === root || p.startsWith(root + sep);

/**
 * The working directory of a script step, checked: inside the checkout (a committed symlink must not
 * lead out), or inside the running action's own folder (`${{ github.action_path }}`).
 */
export async function stepCwd(
  j: StepsJob,
  frame: Frame,
  step: AnyStep,
  plan: Plan,
  ctx: EvalContext,
): Promise<{ dir: string } | { problem: string }> {
  let where: string;
  if (frame.depth === 0) where = join(j.jobWorkingDirectory ?? '.', step.workingDirectory ?? '.');
  else {
    // In an action, working-directory may name the action's folder through ${{ github.action_path }}.
    try {
      where = step.workingDirectory === null ? '.' : renderTemplate(step.workingDirectory, ctx);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      return { problem: `working directory of step "${plan.name}": ${err.message}` };
    }
  }
  const action = frame.action;
  let host: string;
  if (action && isAbsolute(where) && inside(where, action.dir))
    host = join(action.hostDir, where.slice(action.dir.length));
  else if (isAbsolute(where) && inside(where, j.rt.workspace))
    host = join(j.dirs.src, where.slice(j.rt.workspace.length));
  else if (isAbsolute(where))
    return { problem: `working directory "${where}" of step "${plan.name}" is outside the checkout` };
  else host = join(j.dirs.src, where);
  const real = await realpath(host).catch(() => null);
  const realAction = action ? await realpath(action.hostDir).catch(() => null) : null;
  if (real === null)
    return { problem: `working directory "${where}" of step "${plan.name}" does not exist in the checkout` };
  if (!inside(real, j.realSrc) && !(realAction && inside(real, realAction)))
    return {
      problem: `working directory "${where}" of step "${plan.name}" leads outside the checkout (through a symlink)`,
    };
  return { dir: real };
}
