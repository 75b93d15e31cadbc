import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../helpers/git.ts';
import { spawnPushci } from '../helpers/process.ts';
import { processesMatching, runDigits } from '../helpers/processes.ts';

const PIPELINE = `repository: octo-org/demo
on: push
jobs:
  build:
    steps:
      - run: cat committed.txt; cat untracked.txt; echo "changed is $(cat changed.txt)"
      - run: echo "actor is \${{ github.actor }}/$GITHUB_ACTOR"
  test:
    needs: build
    steps:
      - run: echo testing; echo on-stderr >&2; exit 3
`;

const objectsOf = (dir: string) =>
  execFileSync('git', ['count-objects', '-v'], { cwd: dir, encoding: 'utf8' });
// pushci run's own TMPDIR: other checkouts' runs make and remove pushci-run-* dirs in the shared /tmp.
const TMP = mkdtempSync(join(tmpdir(), 'pushci-local-run-test-'));
const runDirs = () => readdirSync(TMP).filter((n) => n.startsWith('pushci-run-'));

describe('pushci run (a pipeline on the working tree, no server)', () => {
  const repo = makeRepo([
    { 'committed.txt': 'from the last commit\n', 'changed.txt': 'old\n', 'pipelines/ci.yml': PIPELINE },
  ]);
  // Uncommitted work: a changed file and a new one.
  writeFileSync(join(repo.dir, 'changed.txt'), 'new\n');
  writeFileSync(join(repo.dir, 'untracked.txt'), 'not added yet\n');
  const statusBefore = repo.git('status', '--porcelain');
  const objectsBefore = objectsOf(repo.dir);
  const env = { PUSHCI_RUNNER: 'sandbox', TMPDIR: TMP };
  const running: Array<ReturnType<typeof spawnPushci>> = [];
  after(() => {
    for (const p of running) p.proc.kill('SIGKILL');
    rmSync(TMP, { recursive: true, force: true });
  });
  const run = (args: string[]) => {
    const p = spawnPushci(['run', ...args], env, { cwd: repo.dir });
    running.push(p);
    return p;
  };

  it('builds uncommitted changes in the sandbox, prints every job’s log, exits 1 on a failed job', async () => {
    const before = runDirs();
    const p = run([]);
    const code = await p.exited;
    const out = p.output.join('');
    assert.equal(code, 1, out);
    assert.match(out, /build │ from the last commit/);
    assert.match(out, /build │ not added yet/);
    assert.match(out, /build │ changed is new/);
    // The one who runs it pushed it, as far as the steps know.
    const me = userInfo().username;
    assert.match(out, new RegExp(`build │ actor is ${me}/${me}\n`));
    assert.match(out, /build │ » pushci: runner: sandbox/);
    assert.match(out, /pushci run: ci on .* \(working tree of main, [0-9a-f]{12}\), sandboxed/);
    assert.match(out, /test +│ testing/);
    assert.match(out, /test +│ on-stderr/);
    assert.match(out, /✔ build +success/);
    assert.match(out, /✘ test +failure .*exit code 3/);
    assert.match(out, /ci: failure/);
    // The user's repository is as it was: same status, no objects written into it; the temp dir is gone.
    assert.equal(repo.git('status', '--porcelain'), statusBefore);
    assert.equal(objectsOf(repo.dir), objectsBefore);
    assert.deepEqual(runDirs(), before);
  });

  it('--job runs one job alone and exits 0 when it succeeds', async () => {
    const p = run(['ci', '--job', 'build']);
    const out = p.output;
    assert.equal(await p.exited, 0, out.join(''));
    assert.match(out.join(''), /ci: success/);
    assert.doesNotMatch(out.join(''), /testing/);
  });

  it('--event pull_request builds the working tree as a pull request into --target, through its PR ref', async () => {
    const dir = makeRepo([
      {
        'pipelines/pr.yml':
          'repository: octo-org/pr\non: pull_request\njobs:\n  show:\n    steps:\n      - run: |\n          echo "$CI_PIPELINE_EVENT #$CI_COMMIT_PULL_REQUEST $CI_COMMIT_SOURCE_BRANCH->$CI_COMMIT_TARGET_BRANCH $CI_COMMIT_REF"\n',
      },
    ]).dir;
    const p = spawnPushci(['run', '--event', 'pull_request', '--target', 'release'], env, { cwd: dir });
    running.push(p);
    assert.equal(await p.exited, 0, p.output.join(''));
    assert.match(p.output.join(''), /show │ pull_request #1 main->release refs\/pull\/1\/head/);
    // A usage error: exit code 2, like every mistyped command line.
    const bad = spawnPushci(['run', '--event', 'tag'], env, { cwd: dir });
    assert.equal(await bad.exited, 2);
    assert.match(bad.output.join(''), /--event must be push or pull_request, not tag/);
  });

  it('a pipeline for a pattern of repositories runs as the one --repo names, within the pattern', async () => {
    const dir = makeRepo([
      {
        'pipelines/org.yml':
          'repository: octo-org/*\non: push\njobs:\n  show:\n    steps:\n      - run: echo "repo is $CI_REPO"\n',
      },
    ]).dir;
    const cli = async (args: string[]) => {
      const p = spawnPushci(['run', ...args], env, { cwd: dir });
      running.push(p);
      return { code: await p.exited, out: p.output.join('') };
    };
    const bare = await cli([]);
    assert.equal(bare.code, 1, bare.out);
    assert.match(bare.out, /pipeline org is for octo-org\/\*, a pattern: .*pushci run --repo owner\/name/);
    const named = await cli(['--repo', 'octo-org/site']);
    assert.equal(named.code, 0, named.out);
    assert.match(named.out, /show │ repo is octo-org\/site/);
    const outside = await cli(['--repo', 'attacker/evil']);
    assert.equal(outside.code, 1, 'control: a repository outside the pattern is refused');
    assert.match(outside.out, /pipeline org is for octo-org\/\*, not attacker\/evil/);
  });

  it('passes artifacts from job to job and saves caches, through a job API of its own', async () => {
    const dir = makeRepo([
      {
        'pipelines/files.yml': `repository: octo-org/files
on: push
jobs:
  make:
    cache:
      - key: deps-v1
        paths: [deps]
    artifacts:
      name: dist
      paths: ['dist/**']
    steps:
      - run: mkdir -p dist deps && echo built-here > dist/out.txt && echo dep > deps/d.txt
  use:
    needs: make
    steps:
      - run: echo "got $(cat dist/out.txt)"
`,
      },
    ]).dir;
    const p = spawnPushci(['run'], env, { cwd: dir });
    running.push(p);
    assert.equal(await p.exited, 0, p.output.join(''));
    assert.match(p.output.join(''), /use +│ got built-here/);
  });

  it('--job with a matrix job’s id runs all of its combinations', async () => {
    const dir = makeRepo([
      {
        'pipelines/m.yml':
          'repository: octo-org/m\non: push\njobs:\n  test:\n    strategy:\n      matrix:\n        node: [20, 22]\n    steps:\n      - run: echo "node ${{ matrix.node }}"\n  done:\n    needs: test\n    steps:\n      - run: echo finished\n',
      },
    ]).dir;
    const p = spawnPushci(['run', '--job', 'test'], env, { cwd: dir });
    running.push(p);
    assert.equal(await p.exited, 0, p.output.join(''));
    const out = p.output.join('');
    assert.match(out, /test-20 │ node 20/);
    assert.match(out, /test-22 │ node 22/);
    assert.doesNotMatch(out, /finished/);
  });

  it('says which pipelines and jobs exist when the name is wrong, and shows broken files', async () => {
    const p = run(['nope']);
    assert.equal(await p.exited, 1);
    assert.match(p.output.join(''), /no pipeline "nope"; the pipelines are: ci \(/);
    const q = run(['ci', '--job', 'deploy']);
    assert.equal(await q.exited, 1);
    assert.match(q.output.join(''), /pipeline ci has no job deploy; it has: build, test/);
  });

  it('Ctrl-C cancels the build and kills its processes', async () => {
    const d = runDigits();
    const dir = makeRepo([
      {
        'pipelines/slow.yml': `repository: octo-org/slow\non: push\njobs:\n  slow:\n    steps:\n      - run: echo started; sleep ${d}1\n`,
      },
    ]).dir;
    const p = spawnPushci(['run'], env, { cwd: dir });
    running.push(p);
    for (let i = 0; i < 200 && !p.output.join('').includes('slow │ started'); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(p.output.join(''), /slow │ started/);
    p.proc.kill('SIGINT');
    assert.equal(await p.exited, 1, p.output.join(''));
    assert.match(p.output.join(''), /slow: canceled/);
    const left = processesMatching(new RegExp(`sleep ${d}1$`));
    assert.deepEqual(left, []);
    assert.equal(existsSync(join(dir, '.pushci')), false);
  });
});
