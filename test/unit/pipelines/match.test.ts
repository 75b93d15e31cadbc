import assert from 'node:assert/strict';
import { NO_TRIGGER, globs, matchPipeline, pushOf } from '../../helpers/match-fixtures.ts';
import { describe, it } from 'node:test';
import type { PushEvent } from '../../../src/core/event.ts';
import { matchPipelines, pathsAllow, skipMarker } from '../../../src/pipelines/match.ts';
import type { Pipeline, Trigger } from '../../../src/pipelines/pipeline.ts';

const g = globs;
const pipeline = matchPipeline;
const push = pushOf;

describe('matchPipelines', () => {
  const table: Array<[string, Partial<Trigger>, string, boolean, Partial<PushEvent>?]> = [
    ['no filter runs branches', {}, 'refs/heads/main', true],
    ['no filter runs tags', {}, 'refs/tags/v1', true],
    ['branch filter', { branches: g('main') }, 'refs/heads/main', true],
    ['branch filter, other branch', { branches: g('main') }, 'refs/heads/dev', false],
    ['branch filter only: tags never run', { branches: g('**') }, 'refs/tags/v1', false],
    ['tag filter only: branches never run', { tags: g('v*') }, 'refs/heads/main', false],
    ['tag filter', { tags: g('v*') }, 'refs/tags/v1.2', true],
    ['tag filter, other tag', { tags: g('v*') }, 'refs/tags/release', false],
    ['both filters, branch', { branches: g('main'), tags: g('v*') }, 'refs/heads/main', true],
    ['both filters, tag', { branches: g('main'), tags: g('v*') }, 'refs/tags/v2', true],
    ['branches-ignore', { branchesIgnore: g('wip/**') }, 'refs/heads/wip/x', false],
    ['branches-ignore, other', { branchesIgnore: g('wip/**') }, 'refs/heads/main', true],
    ['branches-ignore only: tags never run', { branchesIgnore: g('wip/**') }, 'refs/tags/v1', false],
    ['tags-ignore', { tagsIgnore: g('*-rc') }, 'refs/tags/v1-rc', false],
    ['negation', { branches: g('release/**', '!release/old-*') }, 'refs/heads/release/old-1', false],
    ['negation, kept', { branches: g('release/**', '!release/old-*') }, 'refs/heads/release/2', true],
    ['deleted branch never runs', {}, 'refs/heads/main', false, { deleted: true }],
    ['other refs never run', {}, 'refs/notes/x', false],
    ['other repository', {}, 'refs/heads/main', false, { repository: 'octo-org/other' }],
    ['repository compares case-insensitively', {}, 'refs/heads/main', true, { repository: 'Octo-Org/Web' }],
  ];
  for (const [name, trigger, ref, expected, extra] of table) {
    it(name, () =>
      assert.equal(matchPipelines([pipeline('p', trigger)], push(ref, extra)).length, expected ? 1 : 0),
    );
  }

  it('matches repository globs and forges; several pipelines per push', () => {
    const ps = [
      pipeline('all', {}, { repository: 'octo-org/*' }),
      pipeline('gl', {}, { repository: 'octo-org/*', forge: 'gitlab' }),
      pipeline('exact', {}),
      pipeline('other', {}, { repository: 'else/*' }),
    ];
    assert.deepEqual(
      matchPipelines(ps, push('refs/heads/main')).map((p) => p.name),
      ['all', 'exact'],
    );
  });
});

describe('pathsAllow', () => {
  const t = (x: Partial<Trigger>) => ({ ...NO_TRIGGER, ...x });
  it('paths: any changed file matching is enough', () => {
    assert.equal(pathsAllow(t({ paths: g('src/**') }), ['README.md', 'src/a.ts']), true);
    assert.equal(pathsAllow(t({ paths: g('src/**') }), ['README.md']), false);
  });
  it('paths with negation', () => {
    assert.equal(pathsAllow(t({ paths: g('src/**', '!src/**/*.md') }), ['src/x.md']), false);
  });
  it('paths-ignore skips only when every file is ignored', () => {
    assert.equal(pathsAllow(t({ pathsIgnore: g('docs/**') }), ['docs/a.md']), false);
    assert.equal(pathsAllow(t({ pathsIgnore: g('docs/**') }), ['docs/a.md', 'src/a.ts']), true);
  });
  it('an unknown or empty change list never blocks', () => {
    assert.equal(pathsAllow(t({ paths: g('src/**') }), null), true);
    assert.equal(pathsAllow(t({ paths: g('src/**') }), []), true);
  });
});

describe('skipMarker', () => {
  for (const m of ['[skip ci]', '[ci skip]', '[no ci]', '[skip actions]', '[actions skip]', '[SKIP CI]']) {
    it(`finds ${m}`, () => assert.equal(skipMarker(`fix typo ${m}\n\nbody`)?.toLowerCase(), m.toLowerCase()));
  }
  it('ignores messages without a marker', () => assert.equal(skipMarker('skip ci please'), null));
});
