import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashFilesArgs, resolveCacheKey, scanCacheKey } from '../../../src/pipelines/cache-key.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';

describe('cache keys', () => {
  it('reads hashFiles arguments in either quote style, and refuses anything else', () => {
    assert.deepEqual(hashFilesArgs(`'**/package-lock.json', "yarn.lock"`), [
      '**/package-lock.json',
      'yarn.lock',
    ]);
    assert.equal(hashFilesArgs('package-lock.json'), null);
    assert.equal(hashFilesArgs(`'a' 'b'`), null);
    assert.equal(hashFilesArgs(`''`), null);
  });

  it('blanks hashFiles calls so the remaining references keep their offsets', () => {
    const key = `deps-\${{ hashFiles('a') }}-\${{ env.X }}`;
    const { rest, problems } = scanCacheKey(key);
    assert.deepEqual(problems, []);
    assert.equal(rest.length, key.length);
    assert.equal(rest.indexOf('${{ env.X }}'), key.indexOf('${{ env.X }}'));
    assert.doesNotMatch(rest, /hashFiles/);
  });

  it('resolves hashFiles through the worker, runner.os and runner.arch from it, and env from the server', async () => {
    const seen: string[][] = [];
    const key = await resolveCacheKey(
      `\${{ runner.os }}-\${{runner.arch}}-deps-\${{ hashFiles('a/*.lock', "b") }}-\${{ env.OS }}`,
      { OS: 'linux' },
      async (patterns) => {
        seen.push(patterns);
        return 'abc123';
      },
      { os: 'Linux', arch: 'X64' },
    );
    assert.equal(key, 'Linux-X64-deps-abc123-linux');
    assert.deepEqual(seen, [['a/*.lock', 'b']]);
  });

  it("validates GitHub's usual key, and names what a key may use when it uses something else", () => {
    const load = (key: string) =>
      loadPipelineSource(
        'c.yml',
        Buffer.from(
          `repository: o/r\non: push\njobs:\n  b:\n    cache: { key: "${key}", paths: [x] }\n    steps: [{ run: make }]\n`,
        ),
        {},
      ).diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);
    assert.deepEqual(load(`\${{ runner.os }}-node-\${{ hashFiles('**/package-lock.json') }}`), []);
    assert.deepEqual(load(`deps-\${{ github.ref }}`), [
      '5:25: unsupported expression "${{ github.ref }}": only ${{ hashFiles(\'…\') }}, ${{ runner.os }}, ${{ runner.arch }}, ${{ env.NAME }} and ${{ secrets.NAME }} are allowed',
    ]);
  });
});

describe('cache and artifact keys in pipeline files', () => {
  const text = `repository: o/r
on: push
jobs:
  build:
    cache: { key: "deps-\${{ hashFiles('package-lock.json') }}", paths: [node_modules, ~/.npm], restore-keys: deps- }
    artifacts: [{ name: dist, paths: 'dist/**' }, { name: report, paths: [report.txt, '!*.tmp'] }]
    steps: [{ run: make }]
  test:
    needs: build
    steps: [{ run: make test }]
  deploy:
    needs: test
    download-artifacts: [report]
    steps: [{ run: make deploy }]
  lint:
    needs: build
    download-artifacts: false
    steps: [{ run: make lint }]
`;

  it('compiles caches, artifacts and what each job unpacks', () => {
    const { pipeline, diagnostics } = loadPipelineSource('p.yml', Buffer.from(text), {});
    assert.deepEqual(diagnostics, []);
    const jobs = new Map(pipeline!.jobs.map((j) => [j.name, j]));
    assert.deepEqual(jobs.get('build')!.caches, [
      {
        key: "deps-${{ hashFiles('package-lock.json') }}",
        paths: ['node_modules', '~/.npm'],
        restoreKeys: ['deps-'],
      },
    ]);
    assert.deepEqual(jobs.get('build')!.artifacts, [
      { name: 'dist', paths: ['dist/**'] },
      { name: 'report', paths: ['report.txt', '!*.tmp'] },
    ]);
    // Default: every artifact of the jobs it needs directly.
    assert.deepEqual(jobs.get('test')!.downloadArtifacts, ['dist', 'report']);
    // Named ones may come from further up the needs graph.
    assert.deepEqual(jobs.get('deploy')!.downloadArtifacts, ['report']);
    assert.deepEqual(jobs.get('lint')!.downloadArtifacts, []);
    assert.deepEqual(jobs.get('build')!.downloadArtifacts, []);
  });
});
