import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';
import { combinationId, describeCombination, expandMatrix } from '../../../src/pipelines/matrix.ts';

describe('matrix expansion (GitHub documented semantics)', () => {
  it('makes the product of the vectors, in the order written', () => {
    const { combinations } = expandMatrix({ os: ['ubuntu', 'macos'], node: [18, 20] });
    assert.deepEqual(combinations, [
      { os: 'ubuntu', node: 18 },
      { os: 'ubuntu', node: 20 },
      { os: 'macos', node: 18 },
      { os: 'macos', node: 20 },
    ]);
  });

  it("follows GitHub's include example exactly", () => {
    const { combinations } = expandMatrix({
      fruit: ['apple', 'pear'],
      animal: ['cat', 'dog'],
      include: [
        { color: 'green' },
        { color: 'pink', animal: 'cat' },
        { fruit: 'apple', shape: 'circle' },
        { fruit: 'banana' },
        { fruit: 'banana', animal: 'cat' },
      ],
    });
    assert.deepEqual(combinations, [
      { fruit: 'apple', animal: 'cat', color: 'pink', shape: 'circle' },
      { fruit: 'apple', animal: 'dog', color: 'green', shape: 'circle' },
      { fruit: 'pear', animal: 'cat', color: 'pink' },
      { fruit: 'pear', animal: 'dog', color: 'green' },
      { fruit: 'banana' },
      { fruit: 'banana', animal: 'cat' },
    ]);
  });

  it('excludes partial matches before includes are applied', () => {
    const { combinations } = expandMatrix({
      os: ['macos', 'windows'],
      version: [12, 14, 16],
      environment: ['staging', 'production'],
      exclude: [
        { os: 'macos', version: 12, environment: 'production' },
        { os: 'windows', version: 16 },
      ],
      include: [{ os: 'windows', version: 16, experimental: true }],
    });
    assert.equal(combinations.length, 12 - 1 - 2 + 1);
    assert.deepEqual(combinations.at(-1), { os: 'windows', version: 16, experimental: true });
  });

  it('only include: each entry is a combination', () => {
    assert.deepEqual(expandMatrix({ include: [{ a: 1 }, { a: 2, b: 'x' }] }).combinations, [
      { a: 1 },
      { a: 2, b: 'x' },
    ]);
  });

  it('refuses more than 256 combinations, empty vectors and unknown exclude keys', () => {
    const big = expandMatrix({ a: [...Array(16).keys()], b: [...Array(17).keys()] });
    assert.deepEqual(big.combinations, []);
    assert.match(big.problems[0]!.message, /makes 272 jobs; at most 256/);
    const huge = expandMatrix({
      a: [...Array(100).keys()],
      b: [...Array(100).keys()],
      c: [...Array(100).keys()],
    });
    assert.match(huge.problems[0]!.message, /more than 4096 jobs/);
    assert.match(expandMatrix({ a: [] }).problems[0]!.message, /"a" is an empty list/);
    assert.match(
      expandMatrix({ a: [1], exclude: [{ b: 1 }] }).problems[0]!.message,
      /"b", which is not a matrix key/,
    );
    assert.match(expandMatrix({ a: [1], exclude: [{ a: 1 }] }).problems[0]!.message, /makes no job/);
    assert.equal(
      expandMatrix({ a: [...Array(16).keys()], b: [...Array(16).keys()] }).combinations.length,
      256,
    );
  });

  it('names combinations safely', () => {
    assert.equal(combinationId('test', { node: 20, os: 'ubuntu-latest' }), 'test-20-ubuntu-latest');
    assert.equal(combinationId('test', { py: '3.12', x: '$(id)/../' }), 'test-3-12-id');
    assert.equal(
      describeCombination({ node: 20, os: 'ubuntu-latest', o: { a: 1 } }),
      '20, ubuntu-latest, {"a":1}',
    );
  });
});

describe('matrix jobs in a pipeline', () => {
  const load = (jobs: string) =>
    loadPipelineSource('m.yml', Buffer.from(`repository: octo-org/web\non: push\njobs:\n${jobs}`), {});

  it('expands each combination into its own job, and needs waits for all of them', () => {
    const r = load(`  test:
    name: Test
    strategy:
      fail-fast: false
      max-parallel: 2
      matrix:
        node: [18, 20]
        os: [ubuntu-latest]
        include:
          - node: 20
            experimental: true
    continue-on-error: \${{ matrix.experimental == true }}
    timeout-minutes: \${{ matrix.node }}
    runs-on: \${{ matrix.os }}
    steps:
      - run: echo \${{ matrix.node }}
  named:
    name: Lint on node \${{ matrix.node }}
    strategy:
      matrix:
        node: ['22']
    steps:
      - run: make lint
  deploy:
    needs: [test, named]
    if: needs.test.result == 'success'
    steps:
      - run: make deploy
`);
    assert.deepEqual(r.diagnostics.map(formatDiagnostic), []);
    const jobs = r.pipeline!.jobs;
    assert.deepEqual(
      jobs.map((j) => [j.name, j.title, j.timeoutMinutes, j.continueOnError]),
      [
        ['test-18-ubuntu-latest', 'Test (18, ubuntu-latest)', 18, false],
        ['test-20-ubuntu-latest-true', 'Test (20, ubuntu-latest, true)', 20, true],
        ['named-22', 'Lint on node 22', null, false],
        ['deploy', undefined, null, false],
      ],
    );
    assert.deepEqual(jobs[3]!.needs, ['test-18-ubuntu-latest', 'test-20-ubuntu-latest-true', 'named-22']);
    assert.deepEqual(jobs[1]!.matrix, {
      values: { node: 20, os: 'ubuntu-latest', experimental: true },
      index: 1,
      total: 2,
      failFast: false,
      maxParallel: 2,
    });
    assert.equal(jobs[0]!.group, 'test');
  });

  it('reports matrix problems at their place', () => {
    const r = load(`  a:
    strategy:
      matrix:
        n: []
    steps:
      - run: echo \${{ matrix.n }}
  b:
    strategy:
      matrix: \${{ fromJSON(vars.M) }}
    steps:
      - run: make
  c:
    strategy:
      matrix:
        n: [1]
    steps:
      - run: echo \${{ matrix.m }}
  d:
    steps:
      - run: echo \${{ matrix.x }}
`);
    assert.deepEqual(r.diagnostics.map(formatDiagnostic), [
      'm.yml:7:12: matrix value "n" is an empty list; give it at least one value',
      'm.yml:12:15: not supported: a matrix computed by an expression; list its values in the file',
      'm.yml:20:23: matrix.m: the matrix of "c" has no key "m" (it has n)',
      'm.yml:23:23: matrix.x: job "d" has no strategy.matrix',
    ]);
  });
});
