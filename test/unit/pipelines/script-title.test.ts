import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';
import { scriptTitle } from '../../../src/pipelines/script-title.ts';

describe('scriptTitle', () => {
  it('names a step by its script’s first line, cut with an ellipsis past 80 characters', () => {
    assert.equal(scriptTitle('make test\nmake lint'), 'make test');
    const exact = 'x'.repeat(80);
    assert.equal(scriptTitle(exact), exact, 'control: 80 characters are kept whole');
    const long = 'cat dist/out.txt && echo "node ${{ matrix.node }} on ${{ matrix.os }} ${{ env.GREETING }}"';
    const title = scriptTitle(long);
    assert.equal(title.length, 80);
    assert.ok(title.endsWith('…') && long.startsWith(title.slice(0, -1)), title);
  });

  it('is the name a pipeline’s unnamed step gets', () => {
    const long = `echo ${'a'.repeat(100)}`;
    const r = loadPipelineSource(
      'p.yml',
      Buffer.from(`repository: octo-org/web\non: push\njobs:\n  a:\n    steps:\n      - run: ${long}\n`),
      {},
    );
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.pipeline!.jobs[0]!.steps[0]!.name, `echo ${'a'.repeat(74)}…`);
  });
});
