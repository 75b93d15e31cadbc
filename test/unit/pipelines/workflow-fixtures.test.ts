import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';

const DIR = join(import.meta.dirname, '../../fixtures/workflows');
/** What the workflows read from the server: their secrets and vars. */
const ENV = {
  PUSHCI_SECRET_NPM_TOKEN: 'n',
  PUSHCI_SECRET_CHAT_WEBHOOK: 'c',
  PUSHCI_SECRET_DOCS_DEPLOY_KEY: 'd',
  PUSHCI_VAR_BUILD_SCAN: 'true',
};

describe('realistic GitHub Actions workflows (written for pushci, with repository: added)', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yml'));
  it('has the set of languages and shapes it claims', () => assert.ok(files.length >= 10));
  for (const f of files) {
    it(`${f} validates`, () => {
      const r = loadPipelineSource(f, readFileSync(join(DIR, f)), ENV);
      assert.deepEqual(r.diagnostics.map(formatDiagnostic), []);
      assert.ok(r.pipeline!.jobs.length > 0);
    });
  }

  it('what cannot run here gets one precise line each', () => {
    const name = 'unsupported/containers.yml';
    const expected = readFileSync(join(DIR, 'unsupported/containers.expected'), 'utf8').trim().split('\n');
    const r = loadPipelineSource(name, readFileSync(join(DIR, name)), ENV);
    assert.deepEqual(r.diagnostics.map(formatDiagnostic), expected);
    assert.ok(expected.every((l) => l.includes('not supported: ')));
  });

  it('expands the matrices and keeps the graph', () => {
    const load = (f: string) => loadPipelineSource(f, readFileSync(join(DIR, f)), ENV).pipeline!;
    assert.deepEqual(
      load('go.yml').jobs.map((j) => j.name),
      ['meta', 'build-linux-amd64', 'build-linux-arm64', 'build-darwin-amd64', 'build-darwin-arm64', 'test'],
    );
    const node = load('node.yml');
    assert.deepEqual(
      node.jobs.map((j) => j.title ?? j.name),
      ['lint', 'Test on Node 18', 'Test on Node 20', 'Test on Node 22'],
    );
    assert.deepEqual(
      load('python.yml').jobs.map((j) => j.name),
      ['tests-3-11', 'tests-3-12', 'typecheck'],
    );
    assert.deepEqual(
      load('rust.yml').jobs.map((j) => [j.name, j.continueOnError]),
      [
        ['check', false],
        ['test-stable', false],
        ['test-beta', true],
        ['docs', false],
      ],
    );
  });
});
