import { ExpressionError } from './expression-error.ts';
import type { Value } from './values.ts';

/**
 * The longest text an expression may make (GitHub's evaluator stops at 1 MiB too). Without it, eight
 * nested `format('{0}{0}{0}{0}{0}{0}{0}{0}', …)` in an action file of the checkout make 134 million
 * characters, cheap until the worker flattens them (four of them took the worker to 2 GB).
 */
export const MAX_EXPRESSION_TEXT = 1024 * 1024;

/** Throws when `length` characters would be over the limit; `what` names the function or template. */
export function checkTextLength(what: string, length: number): void {
  if (length > MAX_EXPRESSION_TEXT)
    throw new ExpressionError(
      `${what}: the result would be longer than ${MAX_EXPRESSION_TEXT} characters, the most an expression may make`,
    );
}

/** The characters toJSON would need for `v` at least (its strings and keys), counted without making it. */
export function jsonTextLength(v: Value): number {
  let n = 0;
  const walk = (x: Value) => {
    if (n > MAX_EXPRESSION_TEXT) return;
    if (typeof x === 'string') n += x.length + 2;
    else if (Array.isArray(x)) for (const e of x) ((n += 2), walk(e));
    else if (x !== null && typeof x === 'object')
      for (const [k, e] of Object.entries(x)) ((n += k.length + 4), walk(e));
    else n += 5;
  };
  walk(v);
  return n;
}
