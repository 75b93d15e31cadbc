import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { webLinks } from '../../../src/forges/web-links.ts';

const build = { repository: 'octo-org/web', sha: 'abc123', branch: 'feature/x y', tag: null, pullRequest: 7 };

describe('forge web links of a build', () => {
  it('follows each forge’s web paths', () => {
    const table = [
      ['github', 'https://github.com', 'commit/abc123', 'tree/feature/x%20y', 'pull/7'],
      [
        'gitlab',
        'https://gitlab.example.com',
        '-/commit/abc123',
        '-/tree/feature/x%20y',
        '-/merge_requests/7',
      ],
      ['gitea', 'https://gitea.com', 'commit/abc123', 'src/branch/feature/x%20y', 'pulls/7'],
      ['forgejo', 'https://codeberg.org', 'commit/abc123', 'src/branch/feature/x%20y', 'pulls/7'],
      ['bitbucket', 'https://bitbucket.org', 'commits/abc123', 'src/feature/x%20y', 'pull-requests/7'],
    ] as const;
    for (const [forge, base, commit, branch, pull] of table) {
      const l = webLinks(base, forge, build)!;
      assert.equal(l.repository, `${base}/octo-org/web`, forge);
      assert.equal(l.commit, `${base}/octo-org/web/${commit}`, forge);
      assert.equal(l.branch, `${base}/octo-org/web/${branch}`, forge);
      assert.equal(l.pull_request, `${base}/octo-org/web/${pull}`, forge);
      assert.equal(l.tag, null);
    }
    assert.equal(
      webLinks('https://github.com', 'github', { ...build, branch: null, tag: 'v1.0' })!.tag,
      'https://github.com/octo-org/web/releases/tag/v1.0',
    );
  });

  it('makes no link from a base that is not http(s) or a repository name that is not one', () => {
    assert.equal(webLinks('javascript:alert(1)//', 'github', build), null);
    assert.equal(webLinks('', 'github', build), null);
    assert.equal(webLinks('https://github.com', 'github', { ...build, repository: '../../evil' }), null);
    assert.equal(webLinks('https://github.com', 'github', { ...build, repository: 'a/b"onclick' }), null);
  });
});
