import type { Expr } from './ast.ts';
import { ExpressionSyntaxError } from './expression-syntax-error.ts';
import { tokenize, type Token, type TokenKind } from './lexer.ts';

/** Deeper nesting than this is refused rather than risking the stack. */
const MAX_DEPTH = 50;

/**
 * Parses an expression with GitHub's precedence (loosest first): `||`, `&&`, `==` `!=`,
 * `<` `<=` `>` `>=`, `!`, then property access, index and calls.
 */
export function parseExpression(text: string): Expr {
  const tokens = tokenize(text);
  let i = 0;
  let depth = 0;
  const peek = (): Token => tokens[i]!;
  const next = (): Token => tokens[i++]!;
  const describe = (t: Token) => (t.kind === 'end' ? 'the end of the expression' : `"${t.text}"`);
  const expect = (kind: TokenKind, what: string): Token => {
    const t = next();
    if (t.kind !== kind) throw new ExpressionSyntaxError(`expected ${what}, found ${describe(t)}`, t.offset);
    return t;
  };
  const nest = <T>(offset: number, fn: () => T): T => {
    if (++depth > MAX_DEPTH)
      throw new ExpressionSyntaxError(`expression is nested more than ${MAX_DEPTH} levels deep`, offset);
    try {
      return fn();
    } finally {
      depth--;
    }
  };

  const binary = (ops: readonly TokenKind[], operand: () => Expr) => (): Expr => {
    let left = operand();
    while (ops.includes(peek().kind)) {
      const op = next();
      const right = operand();
      left = { kind: 'binary', op: op.kind as never, left, right, offset: left.offset };
    }
    return left;
  };

  const primary = (): Expr => {
    const t = next();
    switch (t.kind) {
      case 'number':
      case 'string':
        return { kind: 'literal', value: t.value!, offset: t.offset };
      case 'true':
      case 'false':
        return { kind: 'literal', value: t.kind === 'true', offset: t.offset };
      case 'null':
        return { kind: 'literal', value: null, offset: t.offset };
      case '(':
        return nest(t.offset, () => {
          const e = or();
          expect(')', '")"');
          return e;
        });
      case 'ident': {
        if (peek().kind !== '(') return { kind: 'context', name: t.text, offset: t.offset };
        next();
        const args: Expr[] = [];
        nest(t.offset, () => {
          if (peek().kind !== ')') {
            do args.push(or());
            while (peek().kind === ',' && next());
          }
          expect(')', '"," or ")"');
        });
        return { kind: 'call', name: t.text, args, offset: t.offset };
      }
      default:
        throw new ExpressionSyntaxError(`expected a value, found ${describe(t)}`, t.offset);
    }
  };

  const postfix = (): Expr => {
    let e = primary();
    for (;;) {
      const t = peek();
      if (t.kind === '.') {
        next();
        const name = next();
        if (name.kind === '*') e = { kind: 'star', object: e, offset: e.offset };
        else if (
          name.kind === 'ident' ||
          name.kind === 'true' ||
          name.kind === 'false' ||
          name.kind === 'null'
        )
          e = { kind: 'property', object: e, name: name.text, offset: e.offset };
        else
          throw new ExpressionSyntaxError(
            `expected a property name after ".", found ${describe(name)}`,
            name.offset,
          );
      } else if (t.kind === '[') {
        next();
        if (peek().kind === '*') {
          next();
          e = { kind: 'star', object: e, offset: e.offset };
        } else {
          const index = nest(t.offset, or);
          e = { kind: 'index', object: e, index, offset: e.offset };
        }
        expect(']', '"]"');
      } else return e;
    }
  };

  const not = (): Expr => {
    const t = peek();
    if (t.kind !== '!') return postfix();
    next();
    return nest(t.offset, () => ({ kind: 'not', operand: not(), offset: t.offset }));
  };

  const compare = binary(['<', '<=', '>', '>='], not);
  const equality = binary(['==', '!='], compare);
  const and = binary(['&&'], equality);
  const or = binary(['||'], and);

  if (peek().kind === 'end') throw new ExpressionSyntaxError('empty expression', peek().offset);
  const e = or();
  const rest = peek();
  if (rest.kind !== 'end')
    throw new ExpressionSyntaxError(`unexpected ${describe(rest)} after the expression`, rest.offset);
  return e;
}
