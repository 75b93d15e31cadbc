import type { Expr } from './ast.ts';
import { evaluate, type EvalContext } from './evaluate.ts';
import { ExpressionSyntaxError } from './expression-syntax-error.ts';
import { parseExpression } from './parse-expression.ts';
import { checkTextLength } from './text-limit.ts';
import { toBoolean, toText, type Value } from './values.ts';

export type Segment =
  | { kind: 'text'; text: string; offset: number }
  /** `offset`: of `${{` in the string; `exprOffset`: of the expression text, which is `source`. */
  | { kind: 'expr'; source: string; offset: number; exprOffset: number; end: number; expr: Expr };

/** Offset just past the `}}` that closes the `${{` at `start`, skipping `}}` inside '…' strings; -1 if none. */
function closing(text: string, start: number): number {
  for (let i = start + 3; i < text.length; i++) {
    if (text[i] === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return -1;
      i = end;
    } else if (text[i] === '}' && text[i + 1] === '}') return i + 2;
  }
  return -1;
}

/**
 * Splits a string into text and `${{ }}` expressions, each parsed. Throws ExpressionSyntaxError with
 * the offset in `text` of the first problem.
 */
export function splitTemplate(text: string): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (;;) {
    const start = text.indexOf('${{', at);
    if (start < 0) break;
    if (start > at) out.push({ kind: 'text', text: text.slice(at, start), offset: at });
    const end = closing(text, start);
    if (end < 0) throw new ExpressionSyntaxError('"${{" without a closing "}}"', start);
    const source = text.slice(start + 3, end - 2);
    try {
      out.push({
        kind: 'expr',
        source,
        offset: start,
        exprOffset: start + 3,
        end,
        expr: parseExpression(source),
      });
    } catch (err) {
      if (err instanceof ExpressionSyntaxError)
        throw new ExpressionSyntaxError(err.message, start + 3 + err.offset);
      throw err;
    }
    at = end;
  }
  if (at < text.length) out.push({ kind: 'text', text: text.slice(at), offset: at });
  return out;
}

/** True when the string holds a `${{`. */
export function hasExpression(text: string): boolean {
  return text.includes('${{');
}

/**
 * A value with `${{ }}` in it: one expression alone (spaces around allowed) gives its value unchanged
 * (so `continue-on-error: ${{ matrix.experimental }}` is a boolean); text around expressions gives a string.
 */
export function evaluateTemplate(text: string, ctx: EvalContext): Value {
  const segments = splitTemplate(text);
  const exprs = segments.filter((s) => s.kind === 'expr');
  const only = exprs.length === 1 && segments.every((s) => s.kind === 'expr' || s.text.trim() === '');
  if (only) return evaluate(exprs[0]!.expr, ctx);
  const parts = segments.map((s) => (s.kind === 'text' ? s.text : toText(evaluate(s.expr, ctx))));
  checkTextLength(
    '${{ }} in text',
    parts.reduce((n, p) => n + p.length, 0),
  );
  return parts.join('');
}

/** Like evaluateTemplate, always a string (for env values, names, `with`). */
export function renderTemplate(text: string, ctx: EvalContext): string {
  if (!hasExpression(text)) return text;
  return toText(evaluateTemplate(text, ctx));
}

/** Whether an expression calls success(), failure(), cancelled() or always() anywhere. */
export function usesStatusFunction(e: Expr): boolean {
  switch (e.kind) {
    case 'call':
      return (
        ['success', 'failure', 'cancelled', 'always'].includes(e.name.toLowerCase()) ||
        e.args.some(usesStatusFunction)
      );
    case 'property':
    case 'star':
      return usesStatusFunction(e.object);
    case 'index':
      return usesStatusFunction(e.object) || usesStatusFunction(e.index);
    case 'not':
      return usesStatusFunction(e.operand);
    case 'binary':
      return usesStatusFunction(e.left) || usesStatusFunction(e.right);
    default:
      return false;
  }
}

/**
 * The expression of an `if:` value: the whole text (GitHub lets `${{ }}` be left out there), or the one
 * `${{ }}` that is the whole value. Null when text surrounds `${{ }}`: GitHub then evaluates a non-empty
 * string, which is always true; validation reports it instead of copying that trap.
 * Offsets in the result are relative to `exprOffset`.
 */
export function conditionExpression(text: string): { expr: Expr; exprOffset: number } | null {
  if (!hasExpression(text)) return { expr: parseExpression(text), exprOffset: 0 };
  const segments = splitTemplate(text);
  const exprs = segments.filter((s) => s.kind === 'expr');
  if (exprs.length === 1 && segments.every((s) => s.kind === 'expr' || s.text.trim() === ''))
    return { expr: exprs[0]!.expr, exprOffset: exprs[0]!.exprOffset };
  return null;
}

/**
 * Evaluates an `if:` condition. Without a status function the condition means `success() && (…)`, as
 * in GitHub: a step after a failure runs only if its condition says so with failure() or always().
 */
export function evaluateCondition(text: string, ctx: EvalContext): boolean {
  const c = conditionExpression(text);
  if (!c) return toBoolean(evaluateTemplate(text, ctx));
  const value = toBoolean(evaluate(c.expr, ctx));
  if (usesStatusFunction(c.expr)) return value;
  const s = ctx.status ?? { success: true, failure: false, cancelled: false };
  return s.success && !s.cancelled && value;
}
