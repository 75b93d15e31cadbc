import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GlobSyntaxError, compileGlob, matchesList, parseGlob } from '../../../src/pipelines/glob.ts';

describe('glob dialect (GitHub Actions filter patterns)', () => {
  const table: Array<[string, string, boolean]> = [
    ['main', 'main', true],
    ['main', 'main2', false],
    ['feature/*', 'feature/x', true],
    ['feature/*', 'feature/x/y', false],
    ['feature/**', 'feature/x/y', true],
    ['**', 'a/b/c', true],
    ['**/README.md', 'README.md', true],
    ['**/README.md', 'docs/x/README.md', true],
    ['docs/**/*.md', 'docs/a.md', true],
    ['docs/**/*.md', 'docs/a/b.md', true],
    ['v1.?', 'v1.', true], // ? = zero or one of the preceding character
    ['v1.?', 'v1', true],
    ['v1.?', 'v1.x', false],
    ['v2+', 'v222', true],
    ['v2+', 'v', false],
    ['v[12].[0-9]', 'v2.7', true],
    ['v[12].[0-9]', 'v3.7', false],
    ['v[!1].0', 'v2.0', true],
    ['v[!1].0', 'v1.0', false],
    ['{main,develop}', 'develop', true],
    ['{main,develop}', 'other', false],
    ['release/{v1,v2}.*', 'release/v2.3', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['*.js', 'src/a.js', false],
    ['*', '', true],
  ];
  for (const [pattern, value, expected] of table) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} "${value}"`, () => {
      assert.equal(compileGlob(pattern).test(value), expected);
    });
  }

  it('evaluates ! patterns in order, the last match deciding', () => {
    const list = ['releases/**', '!releases/**-alpha', 'releases/keep-alpha'].map(parseGlob);
    assert.equal(matchesList(list, 'releases/10'), true);
    assert.equal(matchesList(list, 'releases/10-alpha'), false);
    assert.equal(matchesList(list, 'releases/keep-alpha'), true);
    assert.equal(matchesList(list, 'main'), false);
  });

  it('reports syntax errors with the offending offset', () => {
    for (const [bad, offset] of [
      ['feature/[abc', 8],
      ['{a,b', 0],
      ['?x', 0],
      ['x\\', 1],
    ] as const) {
      assert.throws(
        () => compileGlob(bad),
        (e: unknown) => e instanceof GlobSyntaxError && e.offset === offset,
        bad,
      );
    }
  });
});
