import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Diagnostic } from '../../../src/pipelines/diagnostic.ts';
import type { FileResult } from '../../../src/pipelines/load.ts';
import type { Pipeline } from '../../../src/pipelines/pipeline.ts';
import { composePipelineSet, inForce, type LastGood } from '../../../src/pipelines/pipeline-set.ts';

const pipeline = (name: string, file: string) => ({ name, file, repository: 'o/r' }) as unknown as Pipeline;
const problem = (file: string): Diagnostic => ({ file, line: 2, col: 3, message: 'broken' });
const good = (name: string, p: string): FileResult => ({
  name,
  file: `pipes/${name}`,
  pipeline: pipeline(p, `pipes/${name}`),
  diagnostics: [],
});
const bad = (name: string): FileResult => ({
  name,
  file: `pipes/${name}`,
  pipeline: null,
  diagnostics: [problem(`pipes/${name}`)],
});
const load = (...files: FileResult[]) => ({
  files,
  pipelines: files.flatMap((f) => (f.pipeline ? [f.pipeline] : [])),
  diagnostics: files.flatMap((f) => f.diagnostics),
});

describe('composePipelineSet: one file never holds back another', () => {
  const earlier: Map<string, LastGood> = new Map([
    ['b.yml', { pipeline: pipeline('b', 'pipes/b.yml'), since: '2026-01-01T00:00:00.000Z' }],
  ]);

  it('serves good files as loaded and a broken one at its last good version', () => {
    const set = composePipelineSet(load(good('a.yml', 'a2'), bad('b.yml'), bad('c.yml')), earlier, 'now');
    assert.deepEqual(
      set.pipelines.map((p) => p.name),
      ['a2', 'b'],
    );
    assert.deepEqual(
      set.files.map((f) => [f.name, f.state, f.pipeline, f.since, f.diagnostics.length]),
      [
        ['a.yml', 'ok', 'a2', 'now', 0],
        ['b.yml', 'last-good', 'b', '2026-01-01T00:00:00.000Z', 1],
        ['c.yml', 'none', null, null, 1],
      ],
    );
    assert.equal(set.diagnostics.length, 2);
  });

  it('a good file that now uses the same name wins over a broken file’s last good version', () => {
    const set = composePipelineSet(load(good('a.yml', 'b'), bad('b.yml')), earlier, 'now');
    assert.deepEqual(
      set.pipelines.map((p) => p.file),
      ['pipes/a.yml'],
    );
    assert.equal(set.files[1]!.state, 'none');
  });

  it('what a set has in force is what the next load falls back to, with its original time', () => {
    const first = composePipelineSet(load(good('a.yml', 'a'), good('b.yml', 'b')), new Map(), 't1');
    const second = composePipelineSet(load(good('a.yml', 'a'), bad('b.yml')), inForce(first), 't2');
    const third = composePipelineSet(load(good('a.yml', 'a'), bad('b.yml')), inForce(second), 't3');
    // a.yml never changed: it keeps the time it was loaded at, though b.yml's edits reloaded the folder.
    assert.deepEqual(
      third.files.map((f) => [f.state, f.since]),
      [
        ['ok', 't1'],
        ['last-good', 't1'],
      ],
    );
    assert.equal(third.pipelines[1], first.pipelines[1]);
    // An edit of a.yml is a new version, with the time of the load that brought it.
    const fourth = composePipelineSet(load(good('a.yml', 'a-edited'), bad('b.yml')), inForce(third), 't4');
    assert.deepEqual(
      fourth.files.map((f) => [f.state, f.since]),
      [
        ['ok', 't4'],
        ['last-good', 't1'],
      ],
    );
  });

  it('a deleted file takes its pipeline with it', () => {
    const set = composePipelineSet(load(good('a.yml', 'a')), earlier, 'now');
    assert.deepEqual(
      set.pipelines.map((p) => p.name),
      ['a'],
    );
  });
});
