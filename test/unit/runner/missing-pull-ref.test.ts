import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GitError } from '../../../src/runner/git.ts';
import { missingPullRef } from '../../../src/runner/missing-pull-ref.ts';

const gone = new GitError("git fetch failed: fatal: couldn't find remote ref refs/pull/3/head");

describe('the advice for a pull request ref a clone URL lacks', () => {
  it('names the ref, the local repository and both fixes, with GitLab’s spelling for GitLab', () => {
    const m = (missingPullRef(gone, 'refs/pull/3/head', 'abc123', '/srv/copy') as Error).message;
    assert.match(m, /^refs\/pull\/3\/head is not in the repository at \/srv\/copy/);
    assert.match(m, /git fetch origin '\+refs\/pull\/\*\/head:refs\/pull\/\*\/head'/);
    assert.match(m, /git update-ref refs\/pull\/3\/head abc123/);
    const gl = (missingPullRef(gone, 'refs/merge-requests/3/head', 'abc', 'file:///srv/copy') as Error)
      .message;
    assert.match(gl, /the repository at \/srv\/copy/);
    assert.match(gl, /'\+refs\/merge-requests\/\*\/head:refs\/merge-requests\/\*\/head'/);
  });

  it('never prints a remote clone URL, which may carry a token', () => {
    const m = (missingPullRef(gone, 'refs/pull/3/head', 'abc', 'https://x:tok@git.example/r.git') as Error)
      .message;
    assert.doesNotMatch(m, /tok|git\.example/);
    assert.match(m, /the pipeline's clone-url/);
  });

  it('leaves every other failure as it was: other git errors, and Bitbucket’s source branches', () => {
    const other = new GitError('git fetch failed: fatal: repository not found');
    assert.equal(missingPullRef(other, 'refs/pull/3/head', 'abc', '/srv/copy'), other);
    assert.equal(missingPullRef(gone, 'refs/heads/feature', 'abc', '/srv/copy'), gone);
    const plain = new Error("couldn't find remote ref");
    assert.equal(missingPullRef(plain, 'refs/pull/3/head', 'abc', '/srv/copy'), plain);
  });
});
