import type { EvalContext } from '../pipelines/expr/evaluate.ts';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { evaluateTemplate, renderTemplate } from '../pipelines/expr/template.ts';
import { toBoolean, toNumber, toText } from '../pipelines/expr/values.ts';
import type { AnyStep } from './any-step.ts';
import { renderEnv } from './step-env.ts';

export interface Plan {
  name: string;
  /** The whole environment of a script step (base, job, step env, ${{ }} variables). */
  env: Record<string, string>;
  /** The step's own `env:`, rendered. */
  own: Record<string, string>;
  timeoutMinutes: number | null;
  continueOnError: boolean;
}

/** What a step's expressions say: its shown name, environment, timeout and continue-on-error. */
export function stepPlan(
  step: AnyStep,
  ctx: EvalContext,
  jobEnv: Record<string, string>,
  base: Record<string, string>,
): Plan {
  const name = step.nameTemplate ? renderTemplate(step.name, ctx).replace(/\s*\n\s*/g, ' ') : step.name;
  const own = renderEnv(step.env, ctx);
  const env = { ...base, ...jobEnv, ...own };
  // Each ${{ }} of the script reaches it as a variable: data, never code.
  const valueCtx: EvalContext = {
    ...ctx,
    contexts: { ...ctx.contexts, env: { ...(ctx.contexts.env as object), ...own } },
  };
  for (const e of step.expressions) env[e.variable] = toText(evaluateTemplate(`\${{${e.source}}}`, valueCtx));
  const t = step.timeoutMinutes;
  let timeoutMinutes: number | null = null;
  if (typeof t === 'number') timeoutMinutes = t;
  else if (typeof t === 'string') {
    const v = toNumber(evaluateTemplate(t, valueCtx));
    if (!(v > 0)) throw new ExpressionError(`timeout-minutes ${t} is ${v}, not a positive number of minutes`);
    timeoutMinutes = v;
  }
  const c = step.continueOnError;
  const continueOnError = typeof c === 'string' ? toBoolean(evaluateTemplate(c, valueCtx)) : c;
  return { name, env, own, timeoutMinutes, continueOnError };
}
