import type { Expr } from './ast.ts';
import { arity } from './evaluate.ts';
import { FUNCTIONS } from './functions.ts';

/** Every context GitHub documents that pushci fills in. */
export const CONTEXTS = [
  'github',
  'env',
  'vars',
  'secrets',
  'matrix',
  'strategy',
  'needs',
  'steps',
  'job',
  'runner',
  'inputs',
] as const;
export type ContextName = (typeof CONTEXTS)[number];

/** What a place in the file allows (GitHub's context availability table). */
export interface Place {
  /** Shown in messages: "a job's if:", "a step's env", … */
  label: string;
  contexts: readonly ContextName[];
  /** success(), failure(), … (only `if:`). */
  status?: boolean;
  /** hashFiles() (only in steps). */
  workspace?: boolean;
  /**
   * Checks the name after a context (`needs.<name>`, `matrix.<name>`, …); returns a message when it
   * cannot exist, or null. Contexts without a checker accept any name.
   */
  names?: Partial<Record<ContextName, (name: string) => string | null>>;
}

export interface ExpressionProblem {
  /** Offset in the expression text. */
  offset: number;
  message: string;
}

/** Static checks: unknown contexts and functions, wrong argument counts, names that cannot exist here. */
export function checkExpression(e: Expr, place: Place): ExpressionProblem[] {
  const out: ExpressionProblem[] = [];
  const visit = (n: Expr): void => {
    switch (n.kind) {
      case 'literal':
        return;
      case 'context': {
        const name = n.name.toLowerCase();
        if (!(CONTEXTS as readonly string[]).includes(name))
          out.push({
            offset: n.offset,
            message: `unknown context "${n.name}"; ${place.label} can use ${place.contexts.join(', ')}`,
          });
        else if (!(place.contexts as readonly string[]).includes(name))
          out.push({
            offset: n.offset,
            message: `the "${name}" context is not available in ${place.label} (available: ${place.contexts.join(', ')})`,
          });
        return;
      }
      case 'property': {
        if (n.object.kind === 'context') {
          const ctx = n.object.name.toLowerCase() as ContextName;
          const problem = place.contexts.includes(ctx) ? place.names?.[ctx]?.(n.name) : null;
          if (problem) out.push({ offset: n.object.offset, message: problem });
        }
        return visit(n.object);
      }
      case 'star':
        return visit(n.object);
      case 'index':
        visit(n.object);
        return visit(n.index);
      case 'not':
        return visit(n.operand);
      case 'binary':
        visit(n.left);
        return visit(n.right);
      case 'call': {
        const fn = FUNCTIONS.get(n.name.toLowerCase());
        if (!fn) {
          const names = [...FUNCTIONS.values()].map((f) => f.name);
          out.push({
            offset: n.offset,
            message: `unknown function "${n.name}()"; the functions are ${names.join(', ')}`,
          });
        } else if (n.args.length < fn.min || n.args.length > fn.max) {
          out.push({
            offset: n.offset,
            message: `${fn.name}() takes ${arity(fn.min, fn.max)}, not ${n.args.length}`,
          });
        } else if (fn.needs === 'status' && !place.status) {
          out.push({
            offset: n.offset,
            message: `${fn.name}() can only be used in if: conditions, not in ${place.label}`,
          });
        } else if (fn.needs === 'workspace' && !place.workspace) {
          out.push({
            offset: n.offset,
            message: `${fn.name}() needs the checkout, so it works in steps, not in ${place.label}`,
          });
        }
        n.args.forEach(visit);
        return;
      }
    }
  };
  visit(e);
  return out;
}
