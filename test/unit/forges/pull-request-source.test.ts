import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import type { PullRequestInfo } from '../../../src/core/event.ts';
import { pullRequestSource } from '../../../src/forges/pull-request-source.ts';

const pr = (o: Partial<PullRequestInfo> = {}): PullRequestInfo => ({
  number: 4,
  action: 'opened',
  title: null,
  source_branch: 'feature/widget',
  target_branch: 'main',
  head_repository: 'team/web',
  fork: false,
  ...o,
});

describe('pullRequestSource', () => {
  const config = loadConfig({ PUSHCI_BITBUCKET_URL: 'https://bb.example' });

  it('is the forge pull request ref in the pipeline clone URL where the forge has one', () => {
    for (const forge of ['github', 'gitea', 'forgejo'] as const)
      assert.deepEqual(pullRequestSource(forge, pr({ fork: true }), 'https://x/base.git', config), {
        url: 'https://x/base.git',
        ref: 'refs/pull/4/head',
        local: 'refs/pushci/pull/4/head',
      });
    assert.equal(pullRequestSource('gitlab', pr(), 'u', config)!.ref, 'refs/merge-requests/4/head');
  });

  it('Bitbucket: the source branch, in the pipeline clone URL or in the fork default clone URL', () => {
    assert.deepEqual(pullRequestSource('bitbucket', pr(), 'https://token@bb.example/team/web.git', config), {
      url: 'https://token@bb.example/team/web.git',
      ref: 'refs/heads/feature/widget',
      local: 'refs/pushci/pull-requests/4/from',
    });
    assert.deepEqual(
      pullRequestSource(
        'bitbucket',
        pr({ fork: true, head_repository: 'eve/web' }),
        'https://token@bb.example/team/web.git',
        config,
      ),
      {
        url: 'https://bb.example/eve/web.git',
        ref: 'refs/heads/feature/widget',
        local: 'refs/pushci/pull-requests/4/from',
      },
      'the fork never gets the pipeline clone URL (nor its credentials)',
    );
  });

  it('Bitbucket: no source for a deleted fork or a name that could leave the path', () => {
    for (const name of [
      '(deleted fork)',
      '../etc',
      'eve/../../x',
      'eve/web/extra',
      'eve/..',
      '-x/y',
      'a/b.git',
      '/abs',
    ])
      assert.equal(
        pullRequestSource('bitbucket', pr({ fork: true, head_repository: name }), 'u', config),
        null,
        name,
      );
  });
});
