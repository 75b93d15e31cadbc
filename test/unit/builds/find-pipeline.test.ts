import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findPipeline } from '../../../src/builds/find-pipeline.ts';
import { pipelineFilter } from '../../../src/builds/pipeline-filter.ts';
import { NotFoundError } from '../../../src/errors.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';

const pipeline = (file: string, name: string) => {
  const r = loadPipelineSource(
    file,
    Buffer.from(
      `name: ${name}\nrepository: octo-org/web\non: push\njobs:\n  a:\n    steps:\n      - run: make\n`,
    ),
    {},
  );
  assert.deepEqual(r.diagnostics, []);
  return r.pipeline!;
};

describe('findPipeline', () => {
  const all = [
    pipeline('.pushci/gha.yml', 'GitHub checks'),
    pipeline('.pushci/deploy.yaml', 'deploy'),
    pipeline('.pushci/lint.yml', 'gha.yml'),
    pipeline('other/deploy.yml', 'deploy-other'),
  ];
  const found = (wanted: string) => findPipeline(all, wanted).file;

  it('finds a pipeline by its id first, then by its file path, file name or stem', () => {
    for (const [wanted, file] of [
      ['deploy', '.pushci/deploy.yaml'],
      ['deploy-other', 'other/deploy.yml'],
      // An id wins over a file of the same name.
      ['gha.yml', '.pushci/lint.yml'],
      ['gha', '.pushci/gha.yml'],
      ['.pushci/gha.yml', '.pushci/gha.yml'],
      ['./.pushci/gha.yml', '.pushci/gha.yml'],
      ['lint', '.pushci/lint.yml'],
      ['deploy.yml', 'other/deploy.yml'],
      ['other/deploy.yml', 'other/deploy.yml'],
      ['.pushci/deploy.yaml', '.pushci/deploy.yaml'],
    ] as const)
      assert.equal(found(wanted), file, wanted);
  });

  it('says that a file with problems and no version in force is not loaded, and why', () => {
    const broken = {
      name: 'cachet.yml',
      file: 'pipelines/cachet.yml',
      state: 'none' as const,
      pipeline: null,
      since: null,
      diagnostics: [{ file: 'pipelines/cachet.yml', line: 8, col: 19, message: 'unsupported expression' }],
    };
    for (const wanted of ['cachet', 'cachet.yml', 'pipelines/cachet.yml'])
      assert.throws(
        () => findPipeline(all, wanted, [broken]),
        (err: unknown) =>
          err instanceof NotFoundError &&
          err.message ===
            'pipelines/cachet.yml is not loaded: it has 1 problem(s), the first: pipelines/cachet.yml:8:19: unsupported expression (pushci validate lists them)',
        wanted,
      );
    // The control: a good pipeline is found whatever state other files are in; an unknown name stays "no pipeline".
    assert.equal(findPipeline(all, 'lint', [broken]).file, '.pushci/lint.yml');
    assert.throws(() => findPipeline(all, 'nothing', [broken]), /^NotFoundError: no pipeline "nothing"/);
  });

  it('is a 404 listing the pipelines when nothing or more than one file fits', () => {
    for (const [wanted, message] of [
      ['gah', /^no pipeline "gah"; the pipelines are: .*gha\.yml \(\.pushci\/lint\.yml\)/],
      ['pushci/gha.yml', /^no pipeline/],
      ['.yml', /^no pipeline/],
      ['', /^no pipeline/],
      ['../.pushci/gha.yml', /^no pipeline/],
    ] as const) {
      assert.throws(
        () => findPipeline(all, wanted),
        (err: unknown) => {
          assert.ok(err instanceof NotFoundError);
          assert.match(err.message, message);
          assert.equal((err.details?.pipelines as unknown[]).length, 4);
          return true;
        },
        wanted,
      );
    }
    const twice = [pipeline('a/ci.yml', 'one'), pipeline('b/ci.yml', 'two')];
    assert.throws(
      () => findPipeline(twice, 'ci'),
      /fits several pipelines' files: say one by name \(one, two\)/,
    );
    assert.equal(findPipeline(twice, 'b/ci.yml').name, 'two', 'control: a longer path tells them apart');
  });

  it('as a builds filter: the id the builds are stored under, or a word that may be a removed id', () => {
    assert.equal(pipelineFilter(all, '.pushci/deploy.yaml'), 'deploy');
    assert.equal(pipelineFilter(all, './.pushci/gha.yml'), 'gha', 'a name with spaces: the file is the id');
    assert.equal(pipelineFilter(all, 'old-pipeline'), 'old-pipeline', 'its builds remain listed');
    assert.equal(pipelineFilter([], 'deploy'), 'deploy');
    assert.throws(() => pipelineFilter(all, '.pushci/deploi.yml'), /no pipeline ".pushci\/deploi.yml"/);
    assert.throws(
      () => pipelineFilter(all, 'ci file'),
      NotFoundError,
      'never an id: a 404, not an empty page',
    );
  });
});
