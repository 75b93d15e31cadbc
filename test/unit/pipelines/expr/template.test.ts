import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EvalContext } from '../../../../src/pipelines/expr/evaluate.ts';
import { ExpressionSyntaxError } from '../../../../src/pipelines/expr/expression-syntax-error.ts';
import {
  conditionExpression,
  evaluateCondition,
  evaluateTemplate,
  renderTemplate,
  splitTemplate,
} from '../../../../src/pipelines/expr/template.ts';

const ctx: EvalContext = {
  contexts: { matrix: { node: 20, experimental: true, os: 'linux' }, github: { ref_name: 'main' } },
};
const failed: EvalContext = { ...ctx, status: { success: false, failure: true, cancelled: false } };
const canceled: EvalContext = { ...ctx, status: { success: false, failure: false, cancelled: true } };

describe('templates: ${{ }} inside strings', () => {
  it('a lone expression keeps its type; text around it makes a string', () => {
    assert.equal(evaluateTemplate('${{ matrix.experimental }}', ctx), true);
    assert.equal(evaluateTemplate('  ${{ matrix.node }} ', ctx), 20);
    assert.equal(evaluateTemplate('node-${{ matrix.node }}', ctx), 'node-20');
    assert.equal(evaluateTemplate('${{ matrix.os }}/${{ matrix.node }}', ctx), 'linux/20');
    assert.equal(evaluateTemplate('no expressions', ctx), 'no expressions');
    assert.equal(renderTemplate('${{ matrix.experimental }}', ctx), 'true');
    assert.equal(renderTemplate('${{ null }}', ctx), '');
  });

  it('a }} inside a string literal does not end the expression', () => {
    assert.equal(evaluateTemplate("${{ format('{{{0}}}', 'x') }}!", ctx), '{x}!');
    assert.equal(evaluateTemplate("a ${{ '}}' }} b", ctx), 'a }} b');
  });

  it('reports where an expression is broken, in the whole string', () => {
    assert.throws(
      () => splitTemplate('echo ${{ matrix.node'),
      (e: unknown) =>
        e instanceof ExpressionSyntaxError && e.offset === 5 && /without a closing/.test(e.message),
    );
    assert.throws(
      () => splitTemplate('ab ${{ a == }}'),
      (e: unknown) => e instanceof ExpressionSyntaxError && e.offset === 12,
    );
  });

  it('segments carry offsets', () => {
    const s = splitTemplate('x ${{ a }} y');
    assert.deepEqual(
      s.map((p) => [p.kind, p.offset]),
      [
        ['text', 0],
        ['expr', 2],
        ['text', 10],
      ],
    );
  });
});

describe('if: conditions', () => {
  const table: Array<[string, EvalContext, boolean]> = [
    ["github.ref_name == 'main'", ctx, true],
    ["${{ github.ref_name == 'main' }}", ctx, true],
    ["github.ref_name == 'main'", failed, false], // implicit success() &&
    ["failure() && github.ref_name == 'main'", failed, true],
    ['always()', failed, true],
    ['always()', canceled, true],
    ['success()', canceled, false],
    ["github.ref_name == 'main'", canceled, false],
    ['cancelled()', canceled, true],
    ['!cancelled()', failed, true],
    ['matrix.experimental', ctx, true],
    ['false', ctx, false],
    ["''", ctx, false],
    ['${{ false }}', ctx, false],
    // GitHub's trap: text around ${{ }} is a non-empty string, so true
    ["${{ github.ref_name }} == 'other'", ctx, true],
  ];
  for (const [text, c, expected] of table) {
    it(`${text} → ${expected}${c.status ? ` (${JSON.stringify(c.status)})` : ''}`, () => {
      assert.equal(evaluateCondition(text, c), expected);
    });
  }

  it('finds the expression of a condition and where it starts', () => {
    assert.equal(conditionExpression('a == b')?.exprOffset, 0);
    assert.equal(conditionExpression('  ${{ a }}')?.exprOffset, 5);
    assert.equal(conditionExpression('${{ a }} == b'), null);
  });
});
