import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { changedFiles, checkout, mirrorObjects, mirrorPath } from '../../../src/runner/checkout.ts';
import { gitEnv } from '../../../src/runner/git.ts';
import { makeRepo, type TestRepo } from '../../helpers/git.ts';

describe('checkout through a per-repository mirror', () => {
  const env = gitEnv(process.env);
  /**
   * A fetch into `mirror` caught after it wrote `sha`'s commit object and before its tree and files (a
   * small fetch unpacks objects one by one, commits first).
   */
  const plantCommitAlone = (repo: TestRepo, mirror: string, sha: string) => {
    const commitText = execFileSync('git', ['cat-file', 'commit', sha], { cwd: repo.dir });
    execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: mirror, input: commitText });
  };
  /** A repository, and a data dir whose mirror of it a first checkout made. */
  const mirrored = async () => {
    const repo = makeRepo([{ 'v.txt': 'one\n' }]);
    const data = mkdtempSync(join(tmpdir(), 'pushci-co-'));
    await checkout({
      dataDir: data,
      cloneUrl: repo.dir,
      sha: repo.commits[0]!,
      workspace: join(data, 'w0'),
      env,
    });
    return { repo, data, mirror: mirrorPath(data, repo.dir) };
  };

  it('checks out the exact commit, and reuses the mirror for the next build', async () => {
    const repo = makeRepo([{ 'v.txt': 'one\n' }, { 'v.txt': 'two\n', 'src/a.ts': 'x' }]);
    const data = mkdtempSync(join(tmpdir(), 'pushci-co-'));
    const ws1 = join(data, 'workspaces', 'b1-j-1');
    await checkout({ dataDir: data, cloneUrl: repo.dir, sha: repo.commits[0]!, workspace: ws1, env });
    assert.equal(readFileSync(join(ws1, 'v.txt'), 'utf8'), 'one\n');
    assert.equal(
      execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ws1, encoding: 'utf8' }).trim(),
      repo.commits[0],
    );

    const mirror = mirrorPath(data, repo.dir);
    writeFileSync(join(mirror, 'pushci-test-marker'), 'kept');
    const third = repo.commit({ 'v.txt': 'three\n' });
    const ws2 = join(data, 'workspaces', 'b2-j-1');
    await checkout({
      dataDir: data,
      cloneUrl: repo.dir,
      sha: third,
      alsoFetch: [repo.commits[1]!],
      workspace: ws2,
      env,
    });
    assert.equal(readFileSync(join(ws2, 'v.txt'), 'utf8'), 'three\n');
    assert.ok(existsSync(join(mirror, 'pushci-test-marker')), 'the mirror was reused, not cloned again');
    // The workspace is a repository of its own that borrows the mirror's objects: nothing copied, and no
    // trace of it (worktree entry, index) inside the mirror.
    assert.equal(
      readFileSync(join(ws2, '.git', 'objects', 'info', 'alternates'), 'utf8'),
      `${mirrorObjects(data, repo.dir)}\n`,
    );
    assert.ok(!existsSync(join(mirror, 'worktrees')), 'the mirror knows nothing of the workspace');
    assert.equal(execFileSync('git', ['status', '--porcelain'], { cwd: ws2, encoding: 'utf8' }), '');

    assert.deepEqual(await changedFiles(ws2, repo.commits[0]!, third, env, 100), ['src/a.ts', 'v.txt']);
    assert.deepEqual(await changedFiles(ws2, '0'.repeat(40), third, env, 100), ['v.txt']);
    assert.equal(await changedFiles(ws2, repo.commits[0]!, third, env, 1), null, 'over the cap is unknown');
  });

  it('does not take a commit another job is still fetching: it waits for that fetch, then checks out', async () => {
    const repo = makeRepo([{ 'v.txt': 'one\n' }]);
    const data = mkdtempSync(join(tmpdir(), 'pushci-co-'));
    // The worker's per-mirror queue (job-worker.ts), and a first build that made the mirror.
    const locks = new Map<string, Promise<unknown>>();
    const serialize = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
      const run = (locks.get(key) ?? Promise.resolve()).catch(() => {}).then(fn);
      locks.set(key, run);
      return run;
    };
    const known = new Set<string>();
    const base = { dataDir: data, cloneUrl: repo.dir, env, serialize, known };
    await checkout({ ...base, sha: repo.commits[0]!, workspace: join(data, 'w0') });
    const mirror = mirrorPath(data, repo.dir);
    // Another job's fetch of the next commit, caught halfway: its commit object is in the mirror, its
    // tree and file not yet (a small fetch unpacks objects one by one, commits first).
    const next = repo.commit({ 'v.txt': 'two\n' });
    plantCommitAlone(repo, mirror, next);
    let finish!: () => void;
    const fetching = serialize(mirror, async () => {
      await new Promise<void>((r) => (finish = r));
      execFileSync('git', ['fetch', '-q', repo.dir, '+refs/heads/*:refs/heads/*'], { cwd: mirror });
    });
    const co = checkout({ ...base, sha: next, workspace: join(data, 'w1') });
    let done = false;
    void co.then(
      () => (done = true),
      () => (done = true),
    );
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(done, false, 'it waits for the fetch in progress');
    finish();
    await fetching;
    await co;
    assert.equal(readFileSync(join(data, 'w1', 'v.txt'), 'utf8'), 'two\n');
  });

  it('makes a mirror whole again when its commit came without its tree (another process fetching, or one killed halfway)', async () => {
    const { repo, data, mirror } = await mirrored();
    // A fetch into the mirror by a process this worker does not queue with (a worker sharing the data
    // dir), caught after it wrote the commit object and before its tree: nothing will finish it.
    const next = repo.commit({ 'v.txt': 'two\n', 'dir/deep.txt': 'deep\n' });
    plantCommitAlone(repo, mirror, next);
    const tree = execFileSync('git', ['rev-parse', `${next}^{tree}`], {
      cwd: repo.dir,
      encoding: 'utf8',
    }).trim();
    assert.throws(() => execFileSync('git', ['cat-file', '-e', tree], { cwd: mirror, stdio: 'ignore' }));
    const known = new Set<string>();
    await checkout({ dataDir: data, cloneUrl: repo.dir, sha: next, workspace: join(data, 'w1'), env, known });
    assert.equal(readFileSync(join(data, 'w1', 'v.txt'), 'utf8'), 'two\n');
    assert.equal(readFileSync(join(data, 'w1', 'dir', 'deep.txt'), 'utf8'), 'deep\n');
    execFileSync('git', ['cat-file', '-e', tree], { cwd: mirror });
  });

  it('when the mirror cannot be made whole (the repository is gone), says why read-tree failed and why fetching did not help', async () => {
    const { repo, data, mirror } = await mirrored();
    const next = repo.commit({ 'v.txt': 'two\n' });
    plantCommitAlone(repo, mirror, next);
    rmSync(repo.dir, { recursive: true, force: true });
    await assert.rejects(
      checkout({ dataDir: data, cloneUrl: repo.dir, sha: next, workspace: join(data, 'w1'), env }),
      /git read-tree failed: .*; fetching the commit again failed too: git fetch failed/,
    );
  });

  it('ignores replace refs and hooks planted in the mirror', async () => {
    const repo = makeRepo([{ 'v.txt': 'clean\n' }]);
    const data = mkdtempSync(join(tmpdir(), 'pushci-co-'));
    await checkout({
      dataDir: data,
      cloneUrl: repo.dir,
      sha: repo.commits[0]!,
      workspace: join(data, 'w1'),
      env,
    });
    const mirror = mirrorPath(data, repo.dir);
    // What a step could do on a host without the sandbox: replace the commit's content, plant a hook.
    const evilBlob = execFileSync('git', ['hash-object', '-w', '--stdin'], {
      cwd: mirror,
      input: 'poisoned\n',
      encoding: 'utf8',
    }).trim();
    const cleanBlob = execFileSync('git', ['rev-parse', `${repo.commits[0]}:v.txt`], {
      cwd: mirror,
      encoding: 'utf8',
    }).trim();
    execFileSync('git', ['replace', cleanBlob, evilBlob], { cwd: mirror });
    const flag = join(data, 'hook-ran');
    execFileSync('git', ['config', 'core.hooksPath', join(data, 'hooks')], { cwd: mirror });
    mkdirSync(join(data, 'hooks'));
    for (const h of ['post-checkout', 'reference-transaction', 'post-index-change'])
      writeFileSync(join(data, 'hooks', h), `#!/bin/sh\ntouch ${flag}\n`, { mode: 0o755 });
    const ws = join(data, 'w2');
    await checkout({ dataDir: data, cloneUrl: repo.dir, sha: repo.commits[0]!, workspace: ws, env });
    assert.equal(readFileSync(join(ws, 'v.txt'), 'utf8'), 'clean\n');
    assert.ok(!existsSync(flag), 'no hook ran');
  });

  it('says clearly when the commit does not exist', async () => {
    const repo = makeRepo();
    const data = mkdtempSync(join(tmpdir(), 'pushci-co-'));
    await assert.rejects(
      checkout({ dataDir: data, cloneUrl: repo.dir, sha: 'ab'.repeat(20), workspace: join(data, 'w'), env }),
      /commit abab.* is not in the repository|git fetch failed/,
    );
  });

  it('says once why a repository cannot be reached, not once per way it tried', async () => {
    const data = mkdtempSync(join(tmpdir(), 'pushci-co-'));
    const gone = join(data, 'no-such-repository');
    const err = await checkout({
      dataDir: data,
      cloneUrl: gone,
      sha: 'ab'.repeat(20),
      workspace: join(data, 'w'),
      env,
    }).then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(err, 'the checkout fails');
    assert.match(err.message, /^git fetch failed: /);
    assert.equal(err.message.split('git fetch failed').length - 1, 1, err.message);
  });
});
