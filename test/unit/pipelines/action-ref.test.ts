import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseActionRef } from '../../../src/pipelines/action-ref.ts';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';

describe('parseActionRef', () => {
  it('reads local, remote and docker references', () => {
    assert.deepEqual(parseActionRef('./.github/actions/build'), {
      kind: 'local',
      path: '.github/actions/build',
    });
    assert.deepEqual(parseActionRef('./'), { kind: 'local', path: '' });
    assert.deepEqual(parseActionRef('./tools/x/'), { kind: 'local', path: 'tools/x' });
    assert.deepEqual(parseActionRef('actions/checkout@v4'), {
      kind: 'remote',
      owner: 'actions',
      repo: 'checkout',
      path: '',
      ref: 'v4',
    });
    assert.deepEqual(parseActionRef('octo-org/tools/setup/node@release/2.x'), {
      kind: 'remote',
      owner: 'octo-org',
      repo: 'tools',
      path: 'setup/node',
      ref: 'release/2.x',
    });
    assert.deepEqual(parseActionRef('docker://alpine:3'), { kind: 'docker', image: 'alpine:3' });
  });

  it('refuses what could become a git option, climb out of a folder, or come from an expression', () => {
    const hostile = [
      'a/b@--upload-pack=touch /tmp/x',
      '--upload-pack=x/b@v1',
      'a/--config=x@v1',
      'a/b@-v1',
      'a/b/../../etc@v1',
      'a/b/./x@v1',
      'a/..@v1',
      './../outside',
      './a/../../b',
      '../x',
      '/etc/action',
      'a/b@v1..v2',
      'a/b@refs/../x',
      'a/b@x.lock',
      'a/b@a//b',
      'a/b@',
      'a@v1',
      'a/b',
      'a/b@${{ github.ref }}',
      'a b/c@v1',
      'a/b@v1\n--x',
    ];
    for (const u of hostile) assert.ok('problem' in parseActionRef(u), u);
  });

  it('makes pushci validate report bad spellings at file:line:col, and accept good ones', () => {
    const r = loadPipelineSource(
      'w.yml',
      Buffer.from(`name: w
repository: octo-org/w
on: push
jobs:
  a:
    steps:
      - uses: actions/checkout@v4
      - uses: ./.github/actions/x
        with:
          n: \${{ github.sha }}
      - uses: octo-org/tools/setup@v1.2
      - uses: a/b@--upload-pack=touch /tmp/pwned
      - uses: ./../../etc
      - uses: evil/x/../../y@v1
      - uses: docker://alpine
      - run: make
        with:
          x: 1
`),
      {},
    );
    assert.deepEqual(r.diagnostics.map(formatDiagnostic), [
      'w.yml:12:15: uses: "--upload-pack=touch /tmp/pwned" is not a usable ref: a tag, branch or commit of letters, digits, ".", "_", "-", "/"',
      'w.yml:13:15: uses: the folder "../../etc" must be names of letters, digits, ".", "_", "-" separated by "/" (no "..", no leading "-")',
      'w.yml:14:15: uses: the folder "../../y" must be names of letters, digits, ".", "_", "-" separated by "/" (no "..", no leading "-")',
      'w.yml:15:15: uses: docker actions need a container engine, which pushci does not have configured',
      'w.yml:17:9: with: gives inputs to an action: it goes with uses:',
    ]);
  });
});
