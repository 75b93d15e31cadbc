import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { renderTemplate } from '../pipelines/expr/template.ts';
import type { Value } from '../pipelines/expr/values.ts';
import { checkoutPlan } from './builtin-actions.ts';
import { runScript } from './run-script.ts';
import type { StepCall } from './step-context.ts';
import { stepProblem, type JobEnd, type StepOutcome, type StepsJob } from './steps-job.ts';

/** `actions/checkout`: the workspace already is the commit; a `path:` gets a copy, made by a step. */
export async function builtinCheckout(j: StepsJob, call: StepCall): Promise<StepOutcome | JobEnd> {
  const { step, plan, ctx, frame, actionId } = call;
  const g = j.contexts.github as { [k: string]: Value };
  const build = {
    repository: String(g.repository ?? ''),
    sha: String(g.sha ?? ''),
    ref: String(g.ref ?? ''),
  };
  let inputs: Record<string, string>;
  try {
    inputs = Object.fromEntries(
      Object.entries(step.with).map(([k, v]) => [k, renderTemplate(v, ctx)] as const),
    );
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    return stepProblem(plan.name, `expression error in with: ${err.message}`);
  }
  const p = checkoutPlan(inputs, build);
  if ('problem' in p) return stepProblem(plan.name, p.problem);
  for (const n of p.notes) j.log.system(`pushci: ${n}`);
  const outputs = { ref: build.ref, commit: build.sha };
  if (p.path === null) {
    j.log.system(`pushci: step "${plan.name}" succeeded in 0.0 s`);
    return { problem: null, logProblem: false, exitCode: 0, outputs };
  }
  // In the job's own sandbox: whatever an earlier step put at that path stays the job's problem.
  const r = await runScript(j, {
    name: plan.name,
    argv: null,
    script:
      'if [ -e "$PUSHCI_CHECKOUT_PATH" ] && [ -n "$(ls -A "$PUSHCI_CHECKOUT_PATH" 2>/dev/null)" ]; then echo "$PUSHCI_CHECKOUT_PATH is not empty" >&2; exit 1; fi\n' +
      'git clone -q --shared --no-checkout -- "$GITHUB_WORKSPACE" "$PUSHCI_CHECKOUT_PATH"\n' +
      'git -C "$PUSHCI_CHECKOUT_PATH" -c advice.detachedHead=false checkout -q --detach "$PUSHCI_CHECKOUT_SHA"\n',
    shell: 'sh -e {0}',
    cwd: j.realSrc,
    env: { ...plan.env, ...frame.processEnv, PUSHCI_CHECKOUT_PATH: p.path, PUSHCI_CHECKOUT_SHA: build.sha },
    timeoutMinutes: plan.timeoutMinutes,
    actionId,
    seq: ++j.seq,
  });
  if ('end' in r) return r;
  return { ...r, outputs };
}
