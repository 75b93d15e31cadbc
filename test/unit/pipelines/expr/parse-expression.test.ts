import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpressionSyntaxError } from '../../../../src/pipelines/expr/expression-syntax-error.ts';
import { parseExpression } from '../../../../src/pipelines/expr/parse-expression.ts';

describe('expression syntax errors carry the offset of the problem', () => {
  const table: Array<[string, number, RegExp]> = [
    ['', 0, /empty expression/],
    ['   ', 3, /empty expression|expected a value/],
    ['"double"', 0, /single quotes/],
    ["'open", 0, /unterminated string/],
    ['a = b', 2, /did you mean "=="/],
    ['a & b', 2, /did you mean "&&"/],
    ['a | b', 2, /did you mean "\|\|"/],
    ['(a', 2, /expected "\)"/],
    ['a)', 1, /unexpected "\)"/],
    ['a b', 2, /unexpected "b"/],
    ['a.', 2, /property name/],
    ['a.(b)', 2, /property name/],
    ['a[1', 3, /expected "\]"/],
    ['f(1,', 4, /expected a value/],
    ['f(1 2)', 4, /expected "," or "\)"/],
    ['1 ==', 4, /expected a value/],
    ['&& a', 0, /expected a value/],
    ['a ~ b', 2, /unexpected character "~"/],
    ['12abc', 0, /not a number/],
    ['a $ b', 2, /unexpected character "\$"/],
  ];
  for (const [text, offset, message] of table) {
    it(`${JSON.stringify(text)} at ${offset}`, () => {
      assert.throws(
        () => parseExpression(text),
        (err: unknown) =>
          err instanceof ExpressionSyntaxError && err.offset === offset && message.test(err.message),
      );
    });
  }

  it('refuses nesting deeper than 50 levels instead of exhausting the stack', () => {
    assert.throws(() => parseExpression('('.repeat(5000) + '1' + ')'.repeat(5000)), /nested more than 50/);
    assert.throws(() => parseExpression('!'.repeat(5000) + 'a'), /nested more than 50/);
    assert.doesNotThrow(() => parseExpression('('.repeat(40) + '1' + ')'.repeat(40)));
  });

  it('parses precedence: || below && below == below < below !', () => {
    const e = parseExpression('!a < b == c && d || e');
    assert.equal(e.kind, 'binary');
    assert.equal(e.kind === 'binary' && e.op, '||');
    const and = e.kind === 'binary' ? e.left : null;
    assert.equal(and?.kind === 'binary' && and.op, '&&');
    const eq = and?.kind === 'binary' ? and.left : null;
    assert.equal(eq?.kind === 'binary' && eq.op, '==');
    const lt = eq?.kind === 'binary' ? eq.left : null;
    assert.equal(lt?.kind === 'binary' && lt.op, '<');
    assert.equal(lt?.kind === 'binary' && lt.left.kind, 'not');
  });
});
