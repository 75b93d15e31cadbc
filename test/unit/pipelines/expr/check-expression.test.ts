import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkExpression, type Place } from '../../../../src/pipelines/expr/check-expression.ts';
import { parseExpression } from '../../../../src/pipelines/expr/parse-expression.ts';

const jobIf: Place = {
  label: "a job's if:",
  contexts: ['github', 'needs', 'vars', 'inputs', 'matrix', 'strategy'],
  status: true,
  names: { needs: (n) => (n === 'build' ? null : `job "${n}" is not in needs`) },
};
const stepEnv: Place = {
  label: "a step's env",
  contexts: ['github', 'env', 'steps', 'matrix', 'runner', 'job', 'secrets'],
  workspace: true,
};

const check = (text: string, place: Place) => checkExpression(parseExpression(text), place);

describe('static checks of expressions', () => {
  it('accepts what the place allows', () => {
    assert.deepEqual(check("needs.build.result == 'success' && github.ref == 'x' || failure()", jobIf), []);
    assert.deepEqual(check("hashFiles('**/*.lock') != '' && steps.x.outputs.y", stepEnv), []);
  });

  const table: Array<[string, Place, number, RegExp]> = [
    ['nope.x', jobIf, 0, /unknown context "nope"/],
    ['github.ref && steps.a.outputs.b', jobIf, 14, /"steps" context is not available in a job's if:/],
    ['needs.test.result', jobIf, 0, /job "test" is not in needs/],
    ["contain('a', 'b')", jobIf, 0, /unknown function "contain\(\)"/],
    ["startsWith('a')", jobIf, 0, /takes 2 arguments, not 1/],
    ['success(1)', jobIf, 0, /takes 0 arguments/],
    ['success()', stepEnv, 0, /only be used in if:/],
    ["hashFiles('x')", jobIf, 0, /needs the checkout/],
    ["format('{0}', nope)", stepEnv, 14, /unknown context/],
  ];
  for (const [text, place, offset, message] of table) {
    it(`${text} in ${place.label}: ${message}`, () => {
      const problems = check(text, place);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]!.offset, offset);
      assert.match(problems[0]!.message, message);
    });
  }
});
