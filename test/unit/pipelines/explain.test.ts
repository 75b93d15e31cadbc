import assert from 'node:assert/strict';
import { globs, matchPipeline, pushOf } from '../../helpers/match-fixtures.ts';
import { describe, it } from 'node:test';
import type { PushEvent } from '../../../src/core/event.ts';
import { explainMatch } from '../../../src/pipelines/explain.ts';
import { matchPipelines } from '../../../src/pipelines/match.ts';
import type { Pipeline, Trigger } from '../../../src/pipelines/pipeline.ts';

const g = globs;
const pipeline = matchPipeline;
const push = (ref: string, extra: Partial<PushEvent> = {}) =>
  pushOf(ref, { headMessage: 'a change', ...extra });

const PIPELINES = [
  pipeline('any', {}),
  pipeline('main-only', { branches: g('main') }),
  pipeline('not-wip', { branchesIgnore: g('wip/**') }),
  pipeline('releases', { branches: g('release/**', '!release/old-*') }),
  pipeline('tags', { tags: g('v*') }),
  pipeline('not-rc', { tagsIgnore: g('*-rc*') }),
  pipeline('docs', { branches: g('main'), paths: g('docs/**') }),
  pipeline('lab', {}, { forge: 'gitlab' }),
  pipeline('other', {}, { repository: 'octo-org/api' }),
];

const EVENTS = [
  push('refs/heads/main'),
  push('refs/heads/feature/x'),
  push('refs/heads/wip/try'),
  push('refs/heads/release/old-1'),
  push('refs/heads/release/2'),
  push('refs/tags/v1.0'),
  push('refs/tags/v2.0-rc1'),
  push('refs/heads/main', { deleted: true }),
  push('refs/heads/main', { forge: 'gitlab' }),
  push('refs/heads/main', { headMessage: 'quick fix [skip ci]' }),
];

describe('why a push did or did not start each pipeline', () => {
  it('agrees with matching for every pipeline and push of the table', () => {
    for (const e of EVENTS) {
      const matched = new Set(matchPipelines(PIPELINES, e).map((p) => p.name));
      for (const x of explainMatch(PIPELINES, e))
        assert.equal(x.matched, matched.has(x.pipeline), `${x.pipeline} for ${e.ref}: ${x.reason}`);
    }
  });

  it('names the rule that decided, in plain words', () => {
    const why = (e: PushEvent) =>
      Object.fromEntries(explainMatch(PIPELINES, e).map((x) => [x.pipeline, x.reason]));
    const feature = why(push('refs/heads/feature/x'));
    assert.equal(feature['main-only'], 'branch feature/x is not in branches [main]');
    assert.equal(feature.tags, 'a branch push, but the pipeline filters only tags [v*]');
    assert.equal(feature.other, 'repository octo-org/web does not match octo-org/api');
    assert.equal(feature.lab, 'the pipeline is for gitlab, the push came from github');
    assert.equal(feature.any, 'branch feature/x matches');
    assert.equal(
      why(push('refs/heads/wip/try'))['not-wip'],
      'branch wip/try is excluded by branches-ignore [wip/**]',
    );
    assert.equal(
      why(push('refs/heads/release/old-1')).releases,
      'branch release/old-1 is excluded by branches [release/**, !release/old-*]',
    );
    assert.equal(
      why(push('refs/tags/v1.0'))['main-only'],
      'a tag push, but the pipeline filters only branches [main]',
    );
    assert.equal(
      why(push('refs/tags/v2.0-rc1'))['not-rc'],
      'tag v2.0-rc1 is excluded by tags-ignore [*-rc*]',
    );
    assert.match(
      why(push('refs/heads/main')).docs!,
      /^branch main matches; path filters paths \[docs\/\*\*\] are applied after checkout/,
    );
    assert.match(
      why(push('refs/heads/main', { headMessage: 'x [skip ci]' })).any!,
      /says \[skip ci\]: the build is stored as skipped/,
    );
    assert.equal(
      why(push('refs/heads/main', { deleted: true })).any,
      'refs/heads/main was deleted; deletions start nothing',
    );
  });
});
