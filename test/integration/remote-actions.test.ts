import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GIT_TEST_ENV, makeRepo, type TestRepo } from '../helpers/git.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { jobLog, pushAndWait } from '../helpers/push-build.ts';

const SECRET = 'remote-actions-secret';
const ROOT = join(import.meta.dirname, '../..');

/** A repository at `<base>/<owner>/<repo>` holding `files`, standing in for github.com/<owner>/<repo>. */
function actionRepo(
  base: string,
  name: string,
  files: Record<string, string>,
  extra?: (dir: string) => void,
) {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, env: GIT_TEST_ENV, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  for (const [f, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), c);
  }
  extra?.(dir);
  git('add', '-A');
  git('commit', '-q', '-m', 'action');
  return { dir, git, head: git('rev-parse', 'HEAD') };
}

/** @actions/core and what it imports, copied from pushci's own node_modules (no download). */
function copyActionsCore(dir: string) {
  for (const p of [
    '@actions/core',
    '@actions/exec',
    '@actions/io',
    '@actions/http-client',
    'tunnel',
    'undici',
  ])
    cpSync(join(ROOT, 'node_modules', p), join(dir, 'node_modules', p), {
      recursive: true,
      dereference: true,
    });
}

const NODE_ACTION = `name: Node greeter
inputs:
  name:
    required: true
  greeting:
    default: Hi
outputs:
  said:
    description: what it said
runs:
  using: node20
  pre: dist/pre.mjs
  main: dist/main.mjs
  post: dist/post.mjs
  post-if: always()
`;

const PRE = `import * as core from '@actions/core';
core.saveState('from_pre', 'pre-state');
console.log('pre ran for ' + core.getInput('name'));
`;

const MAIN = `import * as core from '@actions/core';
import { writeFileSync } from 'node:fs';
const name = core.getInput('name', { required: true });
core.setOutput('said', core.getInput('greeting') + ', ' + name);
core.saveState('started', 'yes-' + name);
core.exportVariable('FROM_NODE_ACTION', 'exported');
core.setSecret('node-secret-value-xyz');
// What actions written before the command files print (GitHub still honours it).
console.log('::set-output name=legacy::old-style');
console.log('::save-state name=legacy_state::s1');
console.log('main ran: name=' + process.env.INPUT_NAME + ' pre=' + process.env.STATE_from_pre + ' node=' + process.version);
console.log('now masked: node-secret-value-xyz');
try {
  writeFileSync(new URL('./main.mjs', import.meta.url), 'console.log("TAMPERED")');
  console.log('tamper: wrote the action');
} catch (e) {
  console.log('tamper: refused ' + e.code);
}
writeFileSync(process.env.GITHUB_WORKSPACE + '/written-by-action.txt', 'ok');
`;

const POST = `import * as core from '@actions/core';
console.log('post ran: started=' + core.getState('started') + ' pre=' + core.getState('from_pre') + ' legacy=' + process.env.STATE_legacy_state);
`;

const COMPOSITE = `name: Setup
inputs:
  level:
    default: '2'
outputs:
  said:
    value: \${{ steps.inner.outputs.said }}
runs:
  using: composite
  steps:
    - shell: bash
      run: cat "$GITHUB_ACTION_PATH/banner.txt"; echo "level=\${{ inputs.level }} from=$GITHUB_ACTION_REPOSITORY@$GITHUB_ACTION_REF"
    - id: inner
      uses: octo-tools/node-action@v1
      with:
        name: from-composite
`;

describe('remote actions (owner/repo@ref) and node actions', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let nodeHead: string;
  let orphan: string;
  const base = mkdtempSync(join(tmpdir(), 'pushci-actions-base-'));

  before(async () => {
    redis = await startRedis();
    const node = actionRepo(
      base,
      'octo-tools/node-action',
      {
        'action.yml': NODE_ACTION,
        'dist/pre.mjs': PRE,
        'dist/main.mjs': MAIN,
        'dist/post.mjs': POST,
      },
      copyActionsCore,
    );
    node.git('tag', '-a', 'v1', '-m', 'v1');
    nodeHead = node.head;
    // A commit the repository has (as a fork's commit is served by id) but on none of its branches or tags.
    node.git('checkout', '-q', '-b', 'gone');
    node.git('commit', '-q', '--allow-empty', '-m', 'unreachable');
    orphan = node.git('rev-parse', 'HEAD');
    node.git('checkout', '-q', 'main');
    node.git('branch', '-q', '-D', 'gone');
    const comp = actionRepo(base, 'octo-tools/composite', {
      'setup/action.yml': COMPOSITE,
      'setup/banner.txt': 'banner from the remote action\n',
    });
    comp.git('tag', 'v2');
    actionRepo(base, 'elsewhere/x', {
      'action.yml':
        'name: X\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo must-not-run\n',
    }).git('tag', 'v1');
    repo = makeRepo([{ 'a.txt': 'a\n' }]);
    const head = (name: string) =>
      `name: ${name}\nrepository: octo-org/${name}\nclone-url: ${repo.dir}\non: push\n`;
    server = await startServer(
      redis,
      {
        'node.yml': `${head('node')}jobs:
  use:
    outputs:
      said: \${{ steps.n.outputs.said }}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          path: copy
      - run: test "$(cat copy/a.txt)" = a && echo copy-ok
      - id: n
        uses: octo-tools/node-action@v1
        with:
          name: World
      - run: |
          echo "said=\${{ steps.n.outputs.said }} env=$FROM_NODE_ACTION legacy=\${{ steps.n.outputs.legacy }}"
          cat written-by-action.txt && echo " workspace-write-ok"
      - id: c
        uses: octo-tools/composite/setup@v2
      - run: echo "composite-said=\${{ steps.c.outputs.said }}"
  fails:
    steps:
      - uses: octo-tools/node-action@${nodeHead}
        with:
          name: Pinned
      - run: exit 7
  refused:
    steps:
      - uses: elsewhere/x@v1
  missing:
    steps:
      - uses: octo-tools/node-action@v9
  early:
    steps:
      - run: echo early-step-one-ran > marker.txt; cat marker.txt
      - run: echo two
      - uses: octo-tools/composite/setup@v2
      - if: false
        uses: octo-tools/node-action@v404
      - uses: octo-tools/node-action@${orphan}
  other-ref:
    steps:
      - uses: actions/checkout@v4
        with:
          ref: some-other-branch
`,
      },
      {
        GITHUB_WEBHOOK_SECRET: SECRET,
        PUSHCI_RUNNER: 'sandbox',
        PUSHCI_ACTIONS_URL: `file://${base}`,
        PUSHCI_ACTIONS_ALLOW: 'octo-tools',
      },
    );
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  const build = (name: string) =>
    pushAndWait(server, { name, sha: repo.commits[0]!, secret: SECRET, timeoutMs: 120_000 });
  const log = (id: string, job: string) => jobLog(server, id, job);

  it('fetches, pins and runs node and composite actions with inputs, outputs, pre and post', async () => {
    const b = await build('node');
    const job = (n: string) => b.jobs.find((j) => j.name === n)!;
    const use = await log(b.id, 'use');
    assert.equal(job('use').status, 'success', use);
    // Pinned: the resolved commit is in the log.
    assert.match(
      use,
      new RegExp(`action octo-tools/node-action@v1 is commit ${nodeHead} \\(fetched from file://`),
    );
    assert.match(use, /actions\/checkout: ignored fetch-depth/);
    assert.match(use, /copy-ok/);
    assert.match(use, /pre ran for World/);
    // pre runs when the job starts (before the first step); inside a composite action, before its main.
    assert.ok(use.indexOf('pre ran for World') < use.indexOf('copy-ok'), use);
    assert.ok(use.indexOf('pre ran for from-composite') > use.indexOf('said=Hi, World'), use);
    assert.match(use, /main ran: name=World pre=pre-state node=v\d+/);
    assert.match(use, /now masked: \*{8}/);
    assert.ok(!use.includes('node-secret-value-xyz'));
    assert.match(use, /said=Hi, World env=exported legacy=old-style/);
    assert.match(use, /post ran: started=yes-World pre=pre-state legacy=s1/);
    assert.match(use, /workspace-write-ok/);
    assert.match(use, /banner from the remote action/);
    assert.match(use, /level=2 from=octo-tools\/composite@v2/);
    assert.match(use, /composite-said=Hi, from-composite/);
    // Post steps at the end, newest first.
    const posts = [...use.matchAll(/post ran: started=(\S+) pre=(\S+)/g)].map((m) => m[1]);
    assert.deepEqual(posts, ['yes-from-composite', 'yes-World']);
    assert.ok(use.indexOf('post ran') > use.indexOf('composite-said='), 'post steps run after the last step');
    assert.equal(job('use').outputs?.said, 'Hi, World');

    // The action's files are read-only in the sandbox; the workspace is not.
    assert.match(use, /tamper: refused E(ROFS|ACCES|PERM)/);
    const cached = join(
      server.config.dataDir,
      'actions',
      'octo-tools',
      'node-action',
      nodeHead,
      'dist',
      'main.mjs',
    );
    assert.equal(readFileSync(cached, 'utf8'), MAIN);

    // A post step runs after a failed step too, and the job keeps the first failure.
    const fails = await log(b.id, 'fails');
    assert.equal(job('fails').status, 'failure');
    assert.match(job('fails').reason ?? '', /exit code 7/);
    assert.match(fails, /post ran: started=yes-Pinned/);
    assert.match(
      fails,
      new RegExp(`is commit ${nodeHead} \\(cached on this worker\\)|is commit ${nodeHead} \\(fetched`),
    );

    assert.equal(job('refused').status, 'failure');
    assert.match(
      job('refused').reason ?? '',
      /owner "elsewhere" is not in PUSHCI_ACTIONS_ALLOW \(octo-tools\)/,
    );
    assert.ok(!(await log(b.id, 'refused')).includes('must-not-run'));
    assert.match(job('missing').reason ?? '', /has no tag or branch "v9"/);
    // Every action of the job is fetched before step 1, as GitHub's "Set up job": one that cannot be
    // fetched (even under if: false, after steps that would pass) fails the job before step 1 runs.
    const early = await log(b.id, 'early');
    assert.equal(job('early').status, 'failure', early);
    assert.match(
      job('early').reason ?? '',
      /^set up job: cannot fetch octo-tools\/node-action@v404: the repository has no tag or branch "v404"/,
    );
    assert.match(
      job('early').reason ?? '',
      new RegExp(
        `; octo-tools/node-action@${orphan}: the commit is on no branch or tag of octo-tools/node-action`,
      ),
    );
    assert.match(early, /no step ran/);
    assert.ok(!early.includes('early-step-one-ran'), early);
    // The reachable composite action of the same job was fetched (its nested node action too).
    assert.match(early, /action octo-tools\/composite@v2 is commit [0-9a-f]{40}/);
    assert.match(early, /action octo-tools\/node-action@v1 is commit/);
    assert.match(
      job('other-ref').reason ?? '',
      /actions\/checkout of ref "some-other-branch" is not supported/,
    );
  });

  it('runs the cached commit the next time, untouched by the job before', async () => {
    const b = await build('node');
    const use = await log(b.id, 'use');
    assert.equal(b.jobs.find((j) => j.name === 'use')!.status, 'success', use);
    assert.match(
      use,
      new RegExp(`action octo-tools/node-action@v1 is commit ${nodeHead} \\(cached on this worker\\)`),
    );
    assert.ok(!use.includes('TAMPERED'));
    // One folder per commit, no half-made folders left behind, and every job's holds on its actions
    // released when it ended (the cache's size cap may remove them again).
    const actions = join(server.config.dataDir, 'actions');
    assert.deepEqual(readdirSync(actions).sort(), ['.held', 'octo-tools']);
    assert.deepEqual(readdirSync(join(actions, '.held')), []);
  });
});
