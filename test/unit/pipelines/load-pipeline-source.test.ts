import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';

const FIX = join(import.meta.dirname, '../../fixtures/pipelines');
/** What the fixtures may reference: A and B exist, nothing else does. */
const ENV = { CALLBACK_SECRET: 'whsec_x', A: 'whsec_a', B: 'whsec_b' };

describe('pipeline file diagnostics', () => {
  // Each malformed or hostile fixture sits next to a .expected file with its exact diagnostics.
  for (const dir of ['malformed', 'hostile']) {
    for (const name of readdirSync(join(FIX, dir)).filter((f) => /\.ya?ml$/.test(f))) {
      it(`${dir}/${name} gives exactly its expected diagnostics`, () => {
        const expected = readFileSync(join(FIX, dir, name.replace(/\.ya?ml$/, '.expected')), 'utf8')
          .trim()
          .split('\n');
        const got = loadPipelineSource(`${dir}/${name}`, readFileSync(join(FIX, dir, name)), ENV);
        assert.equal(got.pipeline, null);
        assert.deepEqual(got.diagnostics.map(formatDiagnostic), expected);
      });
    }
  }

  it('reports graph, reference and secret problems once the schema holds', () => {
    const text = readFileSync(join(FIX, 'malformed', 'mistakes.yml'), 'utf8')
      .replace('branchs', 'branches')
      .replace('- run: 42\n        timeout: 5', '- run: make');
    const d = loadPipelineSource('m.yml', Buffer.from(text), ENV).diagnostics.map(formatDiagnostic);
    assert.deepEqual(d, [
      'm.yml:8:13: job "build" needs "tset", which is not a job in this file',
      'm.yml:12:12: jobs form a cycle through needs: test → deploy → test',
      "m.yml:18:23: ${{ secrets.NOPE }} is not defined: set PUSHCI_SECRET_NOPE in the server's environment",
      'm.yml:21:13: write the secret as ${{ env.NAME }} or ${{ secrets.NAME }}; literal secrets do not belong in pipeline files',
    ]);
  });

  it('reports undefined env and secret references', () => {
    const text = readFileSync(join(FIX, 'valid', 'web.yml'), 'utf8').replace(
      '${{ env.CALLBACK_SECRET }}',
      '${{ secrets.HOOK }}',
    );
    assert.deepEqual(loadPipelineSource('w.yml', Buffer.from(text), {}).diagnostics.map(formatDiagnostic), [
      "w.yml:17:13: ${{ secrets.HOOK }} is not defined: set PUSHCI_SECRET_HOOK in the server's environment",
    ]);
  });
});
