import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';
import { loadPipelineSource, loadPipelines } from '../../../src/pipelines/load.ts';

const FIX = join(import.meta.dirname, '../../fixtures/pipelines');
const ENV = { CALLBACK_SECRET: 'whsec_x' };
const check = (dir: string, name: string) =>
  loadPipelineSource(`${dir}/${name}`, readFileSync(join(FIX, dir, name)), ENV).diagnostics.map(
    formatDiagnostic,
  );

describe('pipeline loading and diagnostics', () => {
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

  it('reports every problem of a file at its line and column', () => {
    assert.deepEqual(check('malformed', 'mistakes.yml'), [
      'malformed/mistakes.yml:5:5: unknown key "branchs" in on.push (did you mean "branches"?)',
      'malformed/mistakes.yml:10:14: jobs.build.steps[0].run: Invalid input: expected string, received number',
      'malformed/mistakes.yml:11:9: unknown key "timeout" in jobs.build.steps[0] (did you mean "timeout-minutes"?)',
    ]);
  });

  it('reports graph, reference and secret problems once the schema holds', () => {
    const text = readFileSync(join(FIX, 'malformed', 'mistakes.yml'), 'utf8')
      .replace('branchs', 'branches')
      .replace('- run: 42\n        timeout: 5', '- run: make');
    const d = loadPipelineSource('m.yml', Buffer.from(text), ENV).diagnostics.map(formatDiagnostic);
    assert.deepEqual(d, [
      'm.yml:8:13: job "build" needs "tset", which is not a job in this file',
      'm.yml:18:19: ${{ }} is not expanded in run scripts (it would splice text into shell code); pass the value through env: and use "$NAME"',
      'm.yml:12:12: jobs form a cycle through needs: test → deploy → test',
      'm.yml:21:13: write the secret as ${{ env.NAME }} or ${{ secrets.NAME }}; literal secrets do not belong in pipeline files',
    ]);
  });

  it('points at YAML syntax errors', () => {
    const d = check('malformed', 'yaml-error.yml');
    assert.equal(d.length >= 1, true);
    assert.match(d[0]!, /^malformed\/yaml-error\.yml:\d+:\d+: /);
  });

  it('refuses hostile files with one clear diagnostic each', () => {
    assert.deepEqual(check('hostile', 'aliases.yml'), [
      'hostile/aliases.yml:4:8: YAML aliases expand too much (more than 100); write the values out',
    ]);
    assert.match(
      check('hostile', 'deep.yml')[0]!,
      /^hostile\/deep\.yml:4:\d+: file is nested too deeply to parse$/,
    );
    assert.deepEqual(check('hostile', 'latin1.yml'), ['hostile/latin1.yml:1:10: file is not valid UTF-8']);
    assert.match(
      check('hostile', 'huge.yml')[0]!,
      /^hostile\/huge\.yml:1:1: file is \d+ bytes; pipeline files are limited to 1048576$/,
    );
  });

  it('reports duplicate pipeline names across files', async () => {
    const { diagnostics } = await loadPipelines(join(FIX, 'valid'), ENV);
    assert.equal(diagnostics.length, 0);
  });

  it('reports undefined env references', () => {
    const text = readFileSync(join(FIX, 'valid', 'web.yml'), 'utf8');
    assert.deepEqual(loadPipelineSource('w.yml', Buffer.from(text), {}).diagnostics.map(formatDiagnostic), [
      "w.yml:17:13: ${{ env.CALLBACK_SECRET }} is not defined: set CALLBACK_SECRET in the server's environment",
    ]);
  });
});
