import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';
import { loadPipelines } from '../../../src/pipelines/load.ts';

const FIX = join(import.meta.dirname, '../../fixtures/pipelines');
/** What the fixtures may reference: A and B exist, nothing else does. */
const ENV = { CALLBACK_SECRET: 'whsec_x', A: 'whsec_a', B: 'whsec_b' };

describe('loading a pipelines folder', () => {
  it('loads a valid file into a pipeline', async () => {
    const { pipelines, diagnostics } = await loadPipelines(join(FIX, 'valid'), ENV);
    assert.deepEqual(diagnostics, []);
    assert.equal(pipelines.length, 1);
    const p = pipelines[0]!;
    assert.equal(p.name, 'web');
    assert.deepEqual(
      p.jobs.map((j) => [j.name, j.needs]),
      [
        ['build', []],
        ['test', ['build']],
      ],
    );
    assert.deepEqual(p.notify[0]!.events, ['build.completed']);
  });

  it('reports duplicate pipeline names at the second name', async () => {
    const { pipelines, diagnostics } = await loadPipelines(join(FIX, 'duplicates'), ENV);
    assert.equal(pipelines.length, 1);
    assert.equal(diagnostics.length, 1);
    assert.match(
      formatDiagnostic(diagnostics[0]!),
      /duplicates\/b\.yml:2:7: pipeline name "same" is already used by .*duplicates\/a\.yml$/,
    );
  });
});
