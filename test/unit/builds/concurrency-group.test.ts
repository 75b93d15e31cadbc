import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cancelsInProgress } from '../../../src/builds/concurrency-group.ts';
import { newBuild } from '../../../src/builds/create-builds.ts';
import type { CiEvent } from '../../../src/core/event.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';

const pipeline = (concurrency: string) => {
  const r = loadPipelineSource(
    'ci.yml',
    Buffer.from(
      `name: CI checks\nrepository: octo-org/web\non: push\n${concurrency}\njobs:\n  a:\n    steps:\n      - run: make\n`,
    ),
    {},
  );
  assert.deepEqual(r.diagnostics, []);
  return r.pipeline!;
};
const push = (branch: string): CiEvent => ({
  kind: 'push',
  forge: 'github',
  deliveryId: 'd1',
  repository: 'octo-org/web',
  ref: `refs/heads/${branch}`,
  branch,
  before: '0'.repeat(40),
  after: 'a'.repeat(40),
  headMessage: 'm',
  pusher: 'octocat',
  deleted: false,
  created: false,
  forced: false,
});

describe('concurrency groups with ${{ }}', () => {
  it("evaluates GitHub's idiom per build", () => {
    const def = pipeline(
      'concurrency:\n  group: ${{ github.workflow }}-${{ github.ref }}\n  cancel-in-progress: true',
    );
    assert.equal(
      newBuild(def, push('main'), null, new Date().toISOString()).group,
      'CI checks-refs/heads/main',
    );
    assert.equal(
      newBuild(def, push('dev'), null, new Date().toISOString()).group,
      'CI checks-refs/heads/dev',
    );
  });

  it('takes the short form, and keeps literal groups and the default', () => {
    assert.equal(
      newBuild(pipeline('concurrency: deploy-${{ github.ref_name }}'), push('main'), null, '').group,
      'deploy-main',
    );
    assert.equal(newBuild(pipeline('concurrency: deploy'), push('main'), null, '').group, 'deploy');
    assert.equal(
      newBuild(pipeline('concurrency:\n  cancel-in-progress: true'), push('x'), null, '').group,
      'ci/refs/heads/x',
    );
  });

  it('reports what a group cannot use', () => {
    const r = loadPipelineSource(
      'ci.yml',
      Buffer.from(
        'repository: octo-org/web\non: push\nconcurrency: ${{ steps.x.outputs.y }}\njobs:\n  a:\n    steps:\n      - run: make\n',
      ),
      {},
    );
    assert.match(r.diagnostics[0]!.message, /"steps" context is not available in a concurrency group/);
  });

  it("evaluates an expression in cancel-in-progress per build (GitHub's: cancel everywhere but main)", () => {
    const def = pipeline(
      "concurrency:\n  group: ${{ github.ref }}\n  cancel-in-progress: ${{ github.ref != 'refs/heads/main' }}",
    );
    const at = new Date().toISOString();
    const record = (branch: string) => ({ ...newBuild(def, push(branch), null, at), number: 1 });
    assert.equal(cancelsInProgress(record('feature')), true);
    assert.equal(cancelsInProgress(record('main')), false);
    assert.equal(
      cancelsInProgress({ ...record('x'), def: pipeline('concurrency:\n  cancel-in-progress: false') }),
      false,
    );
  });

  it('reports a cancel-in-progress that is neither a boolean nor an expression, and what it cannot use', () => {
    for (const [value, message] of [
      ['sometimes', /must be true, false or a \$\{\{ \}\} expression/],
      ['${{ steps.x.outputs.y }}', /"steps" context is not available in concurrency.cancel-in-progress/],
    ] as const) {
      const r = loadPipelineSource(
        'ci.yml',
        Buffer.from(
          `repository: octo-org/web\non: push\nconcurrency:\n  cancel-in-progress: ${value}\njobs:\n  a:\n    steps:\n      - run: make\n`,
        ),
        {},
      );
      assert.match(r.diagnostics[0]?.message ?? '', message, JSON.stringify(r.diagnostics));
      assert.match(`${r.diagnostics[0]!.line}:${r.diagnostics[0]!.col}`, /^4:/);
    }
  });
});
