import type { Expr } from './ast.ts';
import { ExpressionError } from './expression-error.ts';
import { FUNCTIONS, type FunctionContext } from './functions.ts';
import { compare, getIndex, getProperty, looseEquals, star, toBoolean, type Value } from './values.ts';

/** The contexts an expression can read (`github`, `env`, `matrix`, …) and what its functions may use. */
export interface EvalContext extends FunctionContext {
  contexts: { [name: string]: Value };
}

/**
 * Evaluates a parsed expression. `&&` and `||` return one of their operands, as in GitHub (so
 * `x || 'default'` works); a context that is not there reads as null.
 */
export function evaluate(e: Expr, ctx: EvalContext): Value {
  switch (e.kind) {
    case 'literal':
      return e.value;
    case 'context':
      return getProperty(ctx.contexts, e.name);
    case 'property':
      return getProperty(evaluate(e.object, ctx), e.name);
    case 'index':
      return getIndex(evaluate(e.object, ctx), evaluate(e.index, ctx));
    case 'star':
      return star(evaluate(e.object, ctx));
    case 'not':
      return !toBoolean(evaluate(e.operand, ctx));
    case 'call': {
      const fn = FUNCTIONS.get(e.name.toLowerCase());
      if (!fn) throw new ExpressionError(`unknown function ${e.name}()`, e.offset);
      if (e.args.length < fn.min || e.args.length > fn.max)
        throw new ExpressionError(`${fn.name}() takes ${arity(fn.min, fn.max)}`, e.offset);
      try {
        return fn.call(
          e.args.map((a) => evaluate(a, ctx)),
          ctx,
        );
      } catch (err) {
        if (err instanceof ExpressionError && err.offset === 0)
          throw new ExpressionError(err.message, e.offset);
        throw err;
      }
    }
    case 'binary': {
      const left = evaluate(e.left, ctx);
      if (e.op === '&&') return toBoolean(left) ? evaluate(e.right, ctx) : left;
      if (e.op === '||') return toBoolean(left) ? left : evaluate(e.right, ctx);
      const right = evaluate(e.right, ctx);
      if (e.op === '==') return looseEquals(left, right);
      if (e.op === '!=') return !looseEquals(left, right);
      return compare(e.op, left, right);
    }
  }
}

/** "2 arguments", "1 or 2 arguments", "at least 1 argument". */
export function arity(min: number, max: number): string {
  const n = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  if (min === max) return n(min);
  if (max === Infinity) return `at least ${n(min)}`;
  return `${min} or ${n(max)}`;
}
