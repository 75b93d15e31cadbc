import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
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
  it('runs in a process group of its own, and still ends when the worker exits at once', async () => {
    // A sleep of a length no other process has, to find it by.
    const mark = `sleep 29.${process.pid}${Date.now() % 100_000}`;
    // A worker that starts a long git (an alias running a shell) and exits mid-way, as on a second signal.
    const script = `
      import { git, gitEnv } from ${JSON.stringify(join(import.meta.dirname, '../../../src/runner/git.ts'))};
      git(['-c', 'alias.zz=!${mark}', 'zz'], { env: gitEnv(process.env) }).catch(() => {});
      setTimeout(() => {
        const group = (pid) => Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)]).toString());
        // git, its shell and the sleep (this script's own command line names the sleep too).
        const started = execFileSync('pgrep', ['-f', '${mark}']).toString().trim().split('\\n').map(Number);
        const theirs = started.filter((pid) => pid !== process.pid);
        console.log(JSON.stringify({ me: group(process.pid), gitGroups: theirs.map(group) }));
        process.exit(1);
      }, 700);
      import { execFileSync } from 'node:child_process';
    `;
    const worker = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(worker.status, 1, worker.stderr);
    const out = worker.stdout.trim();
    const { me, gitGroups } = JSON.parse(out.split('\n').at(-1)!) as { me: number; gitGroups: number[] };
    // Ctrl-C reaches the worker's group only: git (and the program it runs) is in another.
    assert.ok(gitGroups.length > 0 && !gitGroups.includes(me), out);
    await new Promise((r) => setTimeout(r, 300));
    assert.throws(
      () => execFileSync('pgrep', ['-f', mark], { stdio: 'pipe' }),
      'the git the worker started ended with it',
    );
  });
});
