import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ActionsCache } from '../../src/runner/actions-cache.ts';
import { GIT_TEST_ENV } from '../helpers/git.ts';
import { fetchAction } from '../../src/runner/fetch-action.ts';
import { gitEnv } from '../../src/runner/git.ts';

describe('fetchAction', () => {
  const base = mkdtempSync(join(tmpdir(), 'pushci-fetch-action-'));
  const dir = join(base, 'octo', 'tool.git');
  mkdirSync(dir, { recursive: true });
  const git = (...a: string[]) =>
    execFileSync('git', a, { cwd: dir, env: GIT_TEST_ENV, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'action.yml'), 'name: t\nruns:\n  using: node20\n  main: index.js\n');
  writeFileSync(join(dir, 'index.js'), 'console.log(1)\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'one');
  git('tag', 'v1');
  const v1 = git('rev-parse', 'HEAD');
  const env = gitEnv(process.env as Record<string, string>);
  const ref = (r: string, owner = 'octo', repo = 'tool') => ({
    kind: 'remote' as const,
    owner,
    repo,
    path: '',
    ref: r,
  });

  it('fetches one commit once, even when jobs ask at the same moment, with no half-made folders left', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pushci-fetch-data-'));
    const got = await Promise.all(
      Array.from({ length: 4 }, () =>
        fetchAction({ dataDir, baseUrl: base, allow: [], ref: ref('v1'), env }),
      ),
    );
    for (const g of got) {
      assert.ok('dir' in g, JSON.stringify(g));
      assert.equal(g.commit, v1);
      assert.equal(g.dir, join(dataDir, 'actions', 'octo', 'tool', v1));
    }
    // The `.git` suffix was found (`<base>/<owner>/<repo>` first, then `.git`), and only files are kept.
    assert.equal(
      readFileSync(join(dataDir, 'actions', 'octo', 'tool', v1, 'index.js'), 'utf8'),
      'console.log(1)\n',
    );
    assert.ok(!existsSync(join(dataDir, 'actions', 'octo', 'tool', v1, '.git')));
    assert.deepEqual(readdirSync(join(dataDir, 'actions')), ['octo']);
    const again = await fetchAction({ dataDir, baseUrl: `file://${base}/`, allow: [], ref: ref(v1), env });
    assert.ok('cached' in again && again.cached);
  });

  it('refuses hostile values before git sees them, and owners outside the allow-list', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pushci-fetch-data-'));
    const marker = join(dataDir, 'pwned');
    for (const r of [
      ref(`--upload-pack=touch ${marker}`),
      ref('v1', '..', '..'),
      ref('v1', '--config=x', 'tool'),
      ref('../../v1'),
      ref('v1', 'octo', 'tool/../../x'),
    ]) {
      const got = await fetchAction({ dataDir, baseUrl: base, allow: [], ref: r, env });
      assert.ok('problem' in got, JSON.stringify(r));
    }
    assert.ok(!existsSync(marker));
    assert.ok(!existsSync(join(dataDir, 'actions')) || readdirSync(join(dataDir, 'actions')).length === 0);
    const refused = await fetchAction({ dataDir, baseUrl: base, allow: ['actions'], ref: ref('v1'), env });
    assert.match((refused as { problem: string }).problem, /"octo" is not in PUSHCI_ACTIONS_ALLOW/);
    // Control: the same action with its owner allowed.
    const ok = await fetchAction({ dataDir, baseUrl: base, allow: ['Octo'], ref: ref('v1'), env });
    assert.ok('dir' in ok);
  });

  it('names both places it looked for a repository that is not there, without placeholders', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pushci-fetch-data-'));
    const got = await fetchAction({
      dataDir,
      baseUrl: base,
      allow: [],
      ref: ref('v1', 'octo', 'missing'),
      env,
    });
    assert.ok('problem' in got);
    assert.match(
      got.problem,
      /^octo\/missing@v1: cannot reach the repository at \S+\/octo\/missing or \S+\/octo\/missing\.git \(PUSHCI_ACTIONS_URL\): /,
    );
    assert.doesNotMatch(got.problem, /<clone-url>/);
    assert.match(got.problem, /octo\/missing\.git' does not appear to be a git repository|does not exist/);
  });

  it("refuses a commit id that is on none of the repository's branches or tags (a fork's commit), and takes an older one that is", async () => {
    // A commit the repository's object store holds but no branch or tag reaches: what a forge serves by
    // id for any commit pushed to a fork of the repository.
    git('checkout', '-q', '-b', 'fork-work');
    writeFileSync(join(dir, 'index.js'), 'console.log("from a fork")\n');
    git('commit', '-q', '-am', 'fork');
    const stranger = git('rev-parse', 'HEAD');
    git('checkout', '-q', 'main');
    git('branch', '-q', '-D', 'fork-work');
    git('commit', '-q', '--allow-empty', '-m', 'two');
    const dataDir = mkdtempSync(join(tmpdir(), 'pushci-fetch-data-'));
    const refused = await fetchAction({ dataDir, baseUrl: base, allow: ['octo'], ref: ref(stranger), env });
    assert.match((refused as { problem: string }).problem, /on no branch or tag of octo\/tool/);
    assert.ok(!existsSync(join(dataDir, 'actions', 'octo', 'tool', stranger)));
    assert.deepEqual(readdirSync(join(dataDir, 'actions')), [], 'no scratch folders left behind');
    // Control: an older commit of main, by id, is fetched (its files, not the stranger's).
    const ok = await fetchAction({ dataDir, baseUrl: base, allow: ['octo'], ref: ref(v1), env });
    assert.ok('dir' in ok && !ok.cached, JSON.stringify(ok));
    assert.equal(readFileSync(join(ok.dir, 'index.js'), 'utf8'), 'console.log(1)\n');
  });

  it('keeps the fetched actions under the size cap, never removing one a running job holds', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pushci-fetch-data-'));
    const root = join(dataDir, 'actions');
    // A cap smaller than two commits' files: the second fetch makes room by removing the first.
    const cache = new ActionsCache(root, 1);
    const jobA = cache.holds();
    const a = await fetchAction({ dataDir, baseUrl: base, allow: [], ref: ref(v1), env, cache, holds: jobA });
    assert.ok('dir' in a, JSON.stringify(a));
    const jobB = cache.holds();
    const b = await fetchAction({
      dataDir,
      baseUrl: base,
      allow: [],
      ref: ref('main'),
      env,
      cache,
      holds: jobB,
    });
    assert.ok('dir' in b && b.commit !== v1, JSON.stringify(b));
    await cache.trim();
    assert.ok(existsSync(a.dir) && existsSync(b.dir), 'both jobs still run: nothing they hold is removed');
    // Job A ends; the next trim removes its commit (used longest ago), not job B's.
    await jobA.release();
    await cache.trim();
    assert.ok(!existsSync(a.dir));
    assert.ok(existsSync(join(b.dir, 'index.js')));
    await jobB.release();
  });
});
