import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, type EvalContext } from '../../../../src/pipelines/expr/evaluate.ts';
import { ExpressionError } from '../../../../src/pipelines/expr/expression-error.ts';
import { parseExpression } from '../../../../src/pipelines/expr/parse-expression.ts';
import type { Value } from '../../../../src/pipelines/expr/values.ts';

const contexts: { [k: string]: Value } = {
  github: {
    event_name: 'push',
    ref: 'refs/heads/main',
    ref_name: 'main',
    event: {
      head_commit: { message: 'Fix: the thing' },
      commits: [
        { message: 'one', id: 'a' },
        { message: 'two', id: 'b' },
      ],
      pull_request: { labels: [{ name: 'bug' }, { name: 'docs' }] },
    },
  },
  matrix: { os: 'ubuntu-latest', node: 20, experimental: false, args: '--ci' },
  env: { EMPTY: '', NUM: '42', Mixed_Case: 'yes' },
  needs: { build: { result: 'success', outputs: { version: '1.2.3' } } },
  list: ['a', 'B', 3, true, null],
  obj: { a: 1, b: { c: 'x' } },
  arr: [],
  nums: ['1', '2'],
};
const ctx: EvalContext = { contexts };
const run = (text: string, c: EvalContext = ctx) => evaluate(parseExpression(text), c);

/** [expression, expected value]; most come from GitHub's documentation of literals, operators and functions. */
const table: Array<[string, Value]> = [
  // Literals
  ['null', null],
  ['true', true],
  ['false', false],
  ['711', 711],
  ['-9.2', -9.2],
  ['0xff', 255],
  ['0xFF', 255],
  ['0o10', 8],
  ['-2.99e-2', -0.0299],
  ['1e3', 1000],
  ['.5', 0.5],
  ["'It''s open source!'", "It's open source!"],
  ["''", ''],
  ["'}}'", '}}'],
  ['Infinity', Infinity],
  // Truthiness through !
  ['!null', true],
  ['!0', true],
  ['!-0', true],
  ["!''", true],
  ['!NaN', true],
  ["!'0'", false],
  ["!'false'", false],
  ['!!1', true],
  ['!github', false],
  ['!arr', false],
  // Equality with coercion
  ['null == 0', true],
  ['true == 1', true],
  ['false == 0', true],
  ["'' == 0", true],
  ["' 123456.789 ' == 123456.789", true],
  ["' +123456.789 ' == 123456.789", true],
  ["' -123456.789 ' == -123456.789", true],
  ["' 0xff ' == 255", true],
  ["' 0o10 ' == 8", true],
  ["' Infinity ' == Infinity", true],
  ["'abc' == 0", false],
  ["'1' == 1", true],
  ["'true' == true", false], // 'true' is NaN as a number
  ['NaN == NaN', false],
  ['NaN != NaN', true],
  ["'abc' == 'ABC'", true],
  ["'abc' != 'abd'", true],
  ['null == null', true],
  ["null == ''", true],
  ['null == false', true],
  ['1 == 1.0', true],
  ['arr == arr', true],
  ['obj == obj', true],
  ['obj.b == obj.b', true],
  ["arr == ''", false],
  ['arr == 0', false],
  ["github.event_name == 'PUSH'", true],
  ["github.event_name != 'pull_request'", true],
  // Ordering
  ['1 < 2', true],
  ['2 < 1', false],
  ['1 <= 1', true],
  ['1.002 > 1.001', true],
  ['2 >= 3', false],
  ["'abc' < 'def'", true],
  ["'b' < 'a'", false],
  ["'a' < 'B'", true],
  ["'B' > 'a'", true],
  ['false < true', true],
  ['false < 0', false],
  ["'2' < 10", true],
  ["'x' < 10", false],
  ["'x' >= 10", false],
  ['null < 1', true],
  ['arr < arr', false],
  ['obj > obj', false],
  ['NaN < 1', false],
  // && and || return an operand
  ['true && false', false],
  ["1 && 'x'", 'x'],
  ["0 && 'x'", 0],
  ["'' || 'default'", 'default'],
  ["'set' || 'default'", 'set'],
  ['null || null', null],
  ['false || 0', 0],
  ['true || false && false', true],
  ['(true || false) && false', false],
  ['!true || true', true],
  ['!(true || true)', false],
  ['1 == 1 && 2 == 2', true],
  ['1 < 2 == true', true],
  // Property and index access
  ['github.ref', 'refs/heads/main'],
  ['GITHUB.REF_NAME', 'main'],
  ["github['ref_name']", 'main'],
  ['github.event.head_commit.message', 'Fix: the thing'],
  ['github.event.nope.deeper', null],
  ['github.nope', null],
  ['nope', null],
  ['nope.x', null],
  ['list[0]', 'a'],
  ["list['1']", 'B'],
  ['list[4]', null],
  ['list[5]', null],
  ['list[-1]', null],
  ['list[0.5]', null],
  ['github.event.commits[1].message', 'two'],
  ['matrix.node', 20],
  ['matrix.experimental', false],
  ['env.EMPTY', ''],
  ['env.mixed_case', 'yes'],
  ['needs.build.outputs.version', '1.2.3'],
  ["needs.build.result == 'success'", true],
  ['obj.b.c', 'x'],
  ["obj['b']['c']", 'x'],
  ['obj.a.b', null],
  // Object filters
  ['github.event.commits.*.message', ['one', 'two']],
  ['github.event.commits[*].id', ['a', 'b']],
  ['github.event.pull_request.labels.*.name', ['bug', 'docs']],
  ['obj.*', [1, { c: 'x' }]],
  ['arr.*.x', []],
  // contains / startsWith / endsWith
  ["contains('Hello world', 'llo')", true],
  ["contains('Hello world', 'LLO')", true],
  ["contains('Hello world', 'xyz')", false],
  ["contains(github.event.pull_request.labels.*.name, 'bug')", true],
  ["contains(github.event.pull_request.labels.*.name, 'BUG')", true],
  ["contains(github.event.pull_request.labels.*.name, 'feature')", false],
  ["contains(list, 'b')", true],
  ['contains(list, 3)', true],
  ["contains(list, '3')", true],
  ['contains(list, null)', true],
  ['contains(fromJSON(\'["push", "pull_request"]\'), github.event_name)', true],
  ['contains(123, 2)', true],
  ["contains('', '')", true],
  ["startsWith('Hello world', 'he')", true],
  ["startsWith('Hello world', 'world')", false],
  ["startsWith(github.ref, 'refs/tags/')", false],
  ["endsWith('Hello world', 'LD')", true],
  ["endsWith('Hello world', 'hello')", false],
  ["endsWith(null, '')", true],
  // format / join / toJSON / fromJSON
  ["format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')", 'Hello Mona the Octocat'],
  ["format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')", '{Hello Mona the Octocat!}'],
  ["format('{0}{0}', 'ab')", 'abab'],
  ["format('{0}-{1}', null, true)", '-true'],
  ["format('node {0}', matrix.node)", 'node 20'],
  ["format('plain')", 'plain'],
  ['join(github.event.pull_request.labels.*.name)', 'bug,docs'],
  ["join(github.event.pull_request.labels.*.name, ', ')", 'bug, docs'],
  ["join('abc')", 'abc'],
  ["join(list, '|')", 'a|B|3|true|'],
  ['join(arr)', ''],
  ['toJSON(obj)', '{\n  "a": 1,\n  "b": {\n    "c": "x"\n  }\n}'],
  ["toJSON('x')", '"x"'],
  ['toJSON(null)', 'null'],
  ["toJSON(fromJSON('[1,2]'))", '[\n  1,\n  2\n]'],
  ["fromJSON('true')", true],
  ["fromJSON('42')", 42],
  ['fromJSON(\'{"a":[1,"x"]}\').a[1]', 'x'],
  ['fromJSON(env.NUM) > 41', true],
  ["fromJSON('null')", null],
  // Function names ignore case
  ["CONTAINS('abc', 'b')", true],
  ["StartsWith('abc', 'a')", true],
  ["tojson('a')", '"a"'],
  // Status functions without a status: a fresh job
  ['success()', true],
  ['failure()', false],
  ['cancelled()', false],
  ['always()', true],
  // Whitespace
  ["  github.ref_name   ==   'main'  ", true],
  ["\ngithub.ref_name\n== 'main'\n", true],
  // Identifiers with dashes
  ["needs.build.result != 'failure' && matrix.os == 'ubuntu-latest'", true],
];

describe('expression evaluation (GitHub Actions semantics)', () => {
  for (const [expr, expected] of table) {
    it(`${expr.replace(/\n/g, '\\n')} → ${JSON.stringify(expected)}`, () => {
      const got = run(expr);
      if (typeof expected === 'number' && Number.isNaN(expected)) assert.ok(Number.isNaN(got));
      else assert.deepEqual(got, expected);
    });
  }

  it('covers more than 150 cases', () => assert.ok(table.length > 150));

  it('status functions read the status they are given', () => {
    const failed: EvalContext = { contexts, status: { success: false, failure: true, cancelled: false } };
    assert.equal(run('success()', failed), false);
    assert.equal(run('failure()', failed), true);
    assert.equal(run('always()', failed), true);
    const canceled: EvalContext = { contexts, status: { success: true, failure: false, cancelled: true } };
    assert.equal(run('cancelled()', canceled), true);
    assert.equal(run('success()', canceled), false);
  });

  it('hashFiles asks the workspace, and fails clearly without one', () => {
    let asked: string[] = [];
    const c: EvalContext = { contexts, hashFiles: (p) => ((asked = p), 'abc') };
    assert.equal(run("hashFiles('**/package-lock.json', 'x')", c), 'abc');
    assert.deepEqual(asked, ['**/package-lock.json', 'x']);
    assert.throws(() => run("hashFiles('x')"), /needs a checkout/);
  });

  const failures: Array<[string, RegExp]> = [
    ["fromJSON('{bad')", /fromJSON: not valid JSON/],
    ["format('{1}', 'a')", /uses \{1\} but only 1 argument/],
    ["format('{x}', 'a')", /is not "\{N\}"/],
    ["format('a}b')", /without "\{"/],
    ['nosuch(1)', /unknown function nosuch\(\)/],
    ["contains('a')", /takes 2 arguments/],
  ];
  for (const [expr, message] of failures) {
    it(`${expr} fails with ${message}`, () => {
      assert.throws(
        () => run(expr),
        (err: unknown) => err instanceof ExpressionError && message.test(err.message),
      );
    });
  }
});
