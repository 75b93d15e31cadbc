import type { Expr } from './expr/ast.ts';
import { checkExpression, type ContextName, type Place } from './expr/check-expression.ts';
import {
  GITHUB_CONTEXT_KEYS,
  JOB_CONTEXT_KEYS,
  RUNNER_CONTEXT_KEYS,
  STRATEGY_CONTEXT_KEYS,
} from './expr/context-keys.ts';
import { ExpressionSyntaxError } from './expr/expression-syntax-error.ts';
import { conditionExpression, splitTemplate } from './expr/template.ts';
import { SECRET_ENV_PREFIX } from './expressions.ts';
import { rewriteRunScript, type RewrittenRun } from './run-script.ts';
import type { Positions } from './positions.ts';
import { settingEnvProblem } from './settings-env.ts';

type Path = PropertyKey[];
type Report = (at: { line: number; col: number }, message: string) => void;
type NameCheck = (name: string) => string | null;

/** Server variables that become `vars.NAME`. */
export const VAR_ENV_PREFIX = 'PUSHCI_VAR_';

const known =
  (context: string, keys: readonly string[], hint = ''): NameCheck =>
  (name) =>
    keys.includes(name.toLowerCase())
      ? null
      : `${context}.${name} is not something pushci provides${hint} (it has: ${keys.join(', ')})`;

/**
 * Checks the `${{ }}` of a pipeline file and reports each problem at its line and column: syntax,
 * unknown contexts and functions, and names that cannot exist (an undefined secret, a job not in needs,
 * a step id not defined before). Every method reports and returns null/false instead of throwing.
 */
export function createExpressionChecker(
  pos: Positions,
  report: Report,
  serverEnv: Readonly<Record<string, string>>,
) {
  const syntax = (path: Path, err: unknown, base = 0): false => {
    if (!(err instanceof ExpressionSyntaxError)) throw err;
    report(pos.inString(path, base + err.offset), `bad expression: ${err.message}`);
    return false;
  };
  const problems = (expr: Expr, exprOffset: number, path: Path, where: Place): boolean => {
    const found = checkExpression(expr, where);
    for (const p of found) report(pos.inString(path, exprOffset + p.offset), p.message);
    return found.length === 0;
  };

  /** `env.NAME`: pipeline settings never; in `lenient` places (steps, where $GITHUB_ENV adds names) any other name. */
  const envNames =
    (scope: ReadonlySet<string>, lenient: boolean): NameCheck =>
    (name) => {
      const setting = settingEnvProblem(name);
      if (setting) return setting;
      if (lenient || scope.has(name) || serverEnv[name] !== undefined) return null;
      return `\${{ env.${name} }} is not defined: set ${name} in the server's environment`;
    };

  /** Name checks every place shares; `extra` adds the job-specific ones (needs, steps, matrix). */
  const names = (
    extra: Partial<Record<ContextName, NameCheck>>,
  ): Partial<Record<ContextName, NameCheck>> => ({
    secrets: (n) =>
      serverEnv[SECRET_ENV_PREFIX + n] !== undefined
        ? null
        : `\${{ secrets.${n} }} is not defined: set ${SECRET_ENV_PREFIX}${n} in the server's environment`,
    vars: (n) =>
      serverEnv[VAR_ENV_PREFIX + n] !== undefined
        ? null
        : `\${{ vars.${n} }} is not defined: set ${VAR_ENV_PREFIX}${n} in the server's environment`,
    github: (n) =>
      n.toLowerCase() === 'token'
        ? 'github.token: pushci has no per-job GitHub token; give one to the pipeline as ${{ secrets.NAME }}'
        : known('github', GITHUB_CONTEXT_KEYS)(n),
    runner: known('runner', RUNNER_CONTEXT_KEYS),
    job: known('job', JOB_CONTEXT_KEYS),
    strategy: known('strategy', STRATEGY_CONTEXT_KEYS),
    env: envNames(new Set(), true),
    ...extra,
  });

  return {
    names,
    envNames,
    /** A string that may hold `${{ }}`; true when it has no problem. */
    template(text: string, path: Path, where: Place): boolean {
      try {
        let ok = true;
        for (const seg of splitTemplate(text))
          if (seg.kind === 'expr') ok = problems(seg.expr, seg.exprOffset, path, where) && ok;
        return ok;
      } catch (err) {
        return syntax(path, err);
      }
    },
    /** An `if:` value; its expression, or null after reporting. */
    condition(text: string, path: Path, where: Place): { expr: Expr } | null {
      try {
        const c = conditionExpression(text);
        if (!c) {
          report(
            pos.inString(path, 0),
            'if: mixes ${{ }} with other text, which makes a non-empty string that is always true; put the whole condition inside one ${{ }} or leave ${{ }} out',
          );
          return null;
        }
        return problems(c.expr, c.exprOffset, path, where) ? c : null;
      } catch (err) {
        return syntax(path, err) || null;
      }
    },
    /** A run script with `${{ }}`: rewritten so values reach the shell as data, or null after reporting. */
    run(text: string, path: Path, where: Place): RewrittenRun | null {
      let r: RewrittenRun;
      try {
        r = rewriteRunScript(text);
      } catch (err) {
        return syntax(path, err) || null;
      }
      let ok = true;
      for (const e of r.expressions) ok = problems(e.expr, e.exprOffset, path, where) && ok;
      for (const p of r.problems) report(pos.inString(path, p.offset), p.message);
      return ok && r.problems.length === 0 ? r : null;
    },
  };
}
