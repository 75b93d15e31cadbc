import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { git, gitEnv, GitError } from '../../../src/runner/git.ts';
import { makeRepo } from '../../helpers/git.ts';

describe('git', () => {
  const env = gitEnv(process.env);

  it('a failure says what git said went wrong, not only its closing advice', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'pushci-git-')), 'no-such-repo');
    await assert.rejects(git(['ls-remote', `file://${missing}`], { env }), (err: unknown) => {
      assert.ok(err instanceof GitError);
      // Real git: "fatal: '…' does not appear to be a git repository", then "Please make sure …".
      assert.match(
        err.message,
        /^git ls-remote failed: fatal: '.*no-such-repo' does not appear to be a git repository/,
      );
      assert.doesNotMatch(err.message, /Please make sure| \/ {2}\//);
      return true;
    });
    // Control: a command that works answers its output.
    const repo = makeRepo([{ 'a.txt': '1' }]);
    assert.match(await git(['ls-remote', `file://${repo.dir}`], { env }), new RegExp(repo.commits[0]!));
  });
});
