import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { ZERO, githubPush, gitlabPush, sendGithub, sendGitlab } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

/** Pipelines under test: each exercises one kind of rule. */
function pipelines(clone: string): Record<string, string> {
  const p = (name: string, repo: string, on: string, extra = '') =>
    `name: ${name}\nrepository: ${repo}\nclone-url: ${clone}\n${extra}on:\n  push:\n${on}\njobs:\n  j:\n    steps:\n      - run: 'true'\n`;
  return {
    'main-only.yml': p('main-only', 'octo-org/web', '    branches: [main]'),
    'releases.yml': p('releases', 'octo-org/web', "    branches: ['release/**', '!release/old-*']"),
    'tags-v.yml': p('tags-v', 'octo-org/web', "    tags: ['v*']"),
    'braces.yml': p('braces', 'octo-org/web', "    tags: ['v{1,2}.*']"),
    'not-wip.yml': p('not-wip', 'octo-org/web', "    branches-ignore: ['wip/**']"),
    'feature.yml': p('feature', 'octo-org/web', "    branches: ['feature/*']"),
    'src-paths.yml': p('src-paths', 'octo-org/web', "    branches: [main]\n    paths: ['src/**']"),
    'docs-ignore.yml': p(
      'docs-ignore',
      'octo-org/web',
      "    branches: [main]\n    paths-ignore: ['docs/**']",
    ),
    'everything.yml': `name: everything\nrepository: octo-org/*\nclone-url: ${clone}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n`,
    'gl-only.yml': p('gl-only', 'group/*', '    branches: [main]\n    tags: [v1]', 'forge: gitlab\n'),
  };
}

type Expect = Record<string, 'success' | 'skipped'>;
interface Case {
  name: string;
  ref: string;
  repo?: string;
  forge?: 'github' | 'gitlab';
  before?: string | number;
  after?: string | number;
  message?: string;
  forced?: boolean;
  expect: Expect;
}

const S = 'success' as const;
const K = 'skipped' as const;
const MAIN: Expect = { 'main-only': S, 'not-wip': S, everything: S, 'src-paths': S, 'docs-ignore': S };
const ALL_SKIPPED: Expect = Object.fromEntries(Object.keys(MAIN).map((k) => [k, K]));
const OTHER: Expect = { 'not-wip': S, everything: S };

const CASES: Case[] = [
  // branches
  { name: 'main', ref: 'refs/heads/main', expect: MAIN },
  { name: 'develop', ref: 'refs/heads/develop', expect: OTHER },
  { name: 'Main is another branch', ref: 'refs/heads/Main', expect: OTHER },
  { name: 'main2 is another branch', ref: 'refs/heads/main2', expect: OTHER },
  { name: 'wip/x ignored', ref: 'refs/heads/wip/x', expect: { everything: S } },
  { name: 'wip/x/y ignored (**)', ref: 'refs/heads/wip/x/y', expect: { everything: S } },
  { name: 'wipe is not wip/**', ref: 'refs/heads/wipe', expect: OTHER },
  { name: 'release/1.0', ref: 'refs/heads/release/1.0', expect: { releases: S, ...OTHER } },
  { name: 'release/a/b', ref: 'refs/heads/release/a/b', expect: { releases: S, ...OTHER } },
  { name: 'release/old-1 excluded by !', ref: 'refs/heads/release/old-1', expect: OTHER },
  {
    name: 'release/old-x/y excluded by !',
    ref: 'refs/heads/release/old-x/y',
    expect: { releases: S, ...OTHER },
  },
  { name: 'release without slash', ref: 'refs/heads/release', expect: OTHER },
  { name: 'feature/login', ref: 'refs/heads/feature/login', expect: { feature: S, ...OTHER } },
  { name: 'feature/a/b: * stops at /', ref: 'refs/heads/feature/a/b', expect: OTHER },
  { name: 'feature/ with unicode', ref: 'refs/heads/feature/ünïcødé', expect: { feature: S, ...OTHER } },
  {
    name: 'branch with shell metacharacters',
    ref: 'refs/heads/feature/$(id);`x`|&',
    expect: { feature: S, ...OTHER },
  },
  { name: 'branch with quotes', ref: `refs/heads/feature/it's"q"`, expect: { feature: S, ...OTHER } },
  {
    name: 'long branch name',
    ref: `refs/heads/feature/${'x'.repeat(250)}`,
    expect: { feature: S, ...OTHER },
  },
  { name: 'new branch main (no before)', ref: 'refs/heads/main', before: ZERO, after: 1, expect: MAIN },
  // tags
  {
    name: 'tag v1.0',
    ref: 'refs/tags/v1.0',
    before: ZERO,
    expect: { 'tags-v': S, braces: S, everything: S },
  },
  {
    name: 'tag v2.5.1',
    ref: 'refs/tags/v2.5.1',
    before: ZERO,
    expect: { 'tags-v': S, braces: S, everything: S },
  },
  { name: 'tag v3.0', ref: 'refs/tags/v3.0', before: ZERO, expect: { 'tags-v': S, everything: S } },
  {
    name: 'tag v10.0 not in braces',
    ref: 'refs/tags/v10.0',
    before: ZERO,
    expect: { 'tags-v': S, everything: S },
  },
  { name: 'tag v1 (no dot)', ref: 'refs/tags/v1', before: ZERO, expect: { 'tags-v': S, everything: S } },
  { name: 'tag release', ref: 'refs/tags/release', before: ZERO, expect: { everything: S } },
  { name: 'tag v/x: * stops at /', ref: 'refs/tags/v/x', before: ZERO, expect: { everything: S } },
  { name: 'tag named main', ref: 'refs/tags/main', before: ZERO, expect: { everything: S } },
  // deletions and other refs
  { name: 'deleted branch', ref: 'refs/heads/main', before: 1, after: ZERO, expect: {} },
  { name: 'deleted tag', ref: 'refs/tags/v1.0', before: 1, after: ZERO, expect: {} },
  { name: 'deleted release branch', ref: 'refs/heads/release/1.0', before: 1, after: ZERO, expect: {} },
  { name: 'notes ref', ref: 'refs/notes/commits', expect: {} },
  { name: 'pull ref', ref: 'refs/pull/1/head', expect: {} },
  // repositories and forges
  { name: 'other repo of the org', ref: 'refs/heads/main', repo: 'octo-org/api', expect: { everything: S } },
  { name: 'repo name case-insensitive', ref: 'refs/heads/main', repo: 'Octo-Org/WEB', expect: MAIN },
  { name: 'other org', ref: 'refs/heads/main', repo: 'other-org/web', expect: {} },
  {
    name: 'repo prefix is not a match',
    ref: 'refs/heads/main',
    repo: 'octo-org/web-extra',
    expect: { everything: S },
  },
  { name: 'nested path is not org/*', ref: 'refs/heads/main', repo: 'octo-org/sub/web', expect: {} },
  {
    name: 'gitlab main',
    forge: 'gitlab',
    ref: 'refs/heads/main',
    repo: 'group/app',
    expect: { 'gl-only': S },
  },
  {
    name: 'gitlab tag v1',
    forge: 'gitlab',
    ref: 'refs/tags/v1',
    repo: 'group/app',
    before: ZERO,
    expect: { 'gl-only': S },
  },
  {
    name: 'gitlab tag v2',
    forge: 'gitlab',
    ref: 'refs/tags/v2',
    repo: 'group/app',
    before: ZERO,
    expect: {},
  },
  { name: 'gitlab develop', forge: 'gitlab', ref: 'refs/heads/develop', repo: 'group/app', expect: {} },
  { name: 'github for gitlab-only repo', ref: 'refs/heads/main', repo: 'group/app', expect: {} },
  {
    name: 'gitlab push to octo-org/web',
    forge: 'gitlab',
    ref: 'refs/heads/main',
    repo: 'octo-org/web',
    expect: MAIN,
  },
  {
    name: 'gitlab deleted branch',
    forge: 'gitlab',
    ref: 'refs/heads/main',
    repo: 'group/app',
    before: 1,
    after: ZERO,
    expect: {},
  },
  // path filters, on real git history: 0 init, 1 src, 2 docs only, 3 docs + src, 4 empty
  { name: 'src change', ref: 'refs/heads/main', before: 0, after: 1, expect: MAIN },
  {
    name: 'docs-only change',
    ref: 'refs/heads/main',
    before: 1,
    after: 2,
    expect: { ...MAIN, 'src-paths': K, 'docs-ignore': K },
  },
  { name: 'docs and src change', ref: 'refs/heads/main', before: 2, after: 3, expect: MAIN },
  { name: 'range over several commits', ref: 'refs/heads/main', before: 0, after: 3, expect: MAIN },
  {
    name: 'empty commit: unknown changes never block',
    ref: 'refs/heads/main',
    before: 3,
    after: 4,
    expect: MAIN,
  },
  {
    name: 'new branch at docs commit: its own files',
    ref: 'refs/heads/main',
    before: ZERO,
    after: 2,
    expect: { ...MAIN, 'src-paths': K, 'docs-ignore': K },
  },
  {
    name: 'forced push, before unknown: head commit files',
    ref: 'refs/heads/main',
    before: 'f'.repeat(40),
    after: 2,
    forced: true,
    expect: { ...MAIN, 'src-paths': K, 'docs-ignore': K },
  },
  {
    name: 'forced push to a src commit',
    ref: 'refs/heads/main',
    before: 'e'.repeat(40),
    after: 1,
    forced: true,
    expect: MAIN,
  },
  {
    name: 'path filters do not apply to other pipelines',
    ref: 'refs/heads/develop',
    before: 1,
    after: 2,
    expect: OTHER,
  },
  // skip markers
  { name: '[skip ci]', ref: 'refs/heads/main', message: 'docs [skip ci]', expect: ALL_SKIPPED },
  { name: '[ci skip]', ref: 'refs/heads/main', message: '[ci skip] wip', expect: ALL_SKIPPED },
  { name: '[no ci]', ref: 'refs/heads/main', message: 'x [no ci]', expect: ALL_SKIPPED },
  { name: '[skip actions]', ref: 'refs/heads/main', message: 'x\n\n[skip actions]', expect: ALL_SKIPPED },
  { name: '[actions skip]', ref: 'refs/heads/main', message: '[actions skip]', expect: ALL_SKIPPED },
  { name: '[SKIP CI] any case', ref: 'refs/heads/main', message: 'x [SKIP CI]', expect: ALL_SKIPPED },
  { name: 'skip ci without brackets runs', ref: 'refs/heads/main', message: 'please skip ci', expect: MAIN },
  {
    name: 'skip marker on a tag',
    ref: 'refs/tags/v1.0',
    before: ZERO,
    message: '[skip ci]',
    expect: { 'tags-v': K, braces: K, everything: K },
  },
  {
    name: 'skip marker via gitlab',
    forge: 'gitlab',
    ref: 'refs/heads/main',
    repo: 'group/app',
    message: '[skip ci]',
    expect: { 'gl-only': K },
  },
];

describe(`matching through the HTTP endpoint (${CASES.length} cases)`, () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  before(async () => {
    redis = await startRedis();
    repo = makeRepo([
      { 'README.md': 'r\n', 'src/a.ts': '1\n', 'docs/x.md': 'x\n' },
      { 'src/a.ts': '2\n' },
      { 'docs/x.md': 'y\n' },
      { 'docs/y.md': 'new\n', 'src/b.ts': 'b\n' },
      {},
    ]);
    server = await startServer(redis, pipelines(repo.dir), {
      GITHUB_WEBHOOK_SECRET: 's',
      GITLAB_WEBHOOK_TOKEN: 't',
      PUSHCI_CONCURRENCY: '4',
    });
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('has at least 60 cases', () => assert.ok(CASES.length >= 60, String(CASES.length)));

  for (const c of CASES) {
    it(c.name, async () => {
      const sha = (v: string | number | undefined, dflt: number) =>
        typeof v === 'string' ? v : repo.commits[v ?? dflt]!;
      const o = {
        ref: c.ref,
        before: sha(c.before, 0),
        after: sha(c.after, 1),
        repo: c.repo ?? 'octo-org/web',
        message: c.message ?? 'a change',
        forced: c.forced ?? false,
      };
      const res =
        c.forge === 'gitlab'
          ? await sendGitlab(server.base, gitlabPush(o), 't')
          : await sendGithub(server.base, githubPush(o), 's');
      const wanted = Object.keys(c.expect).sort();
      assert.equal(res.status, wanted.length ? 202 : 200, res.text);
      const builds = res.json.builds as Array<{ id: string; pipeline: string }>;
      assert.deepEqual(builds.map((b) => b.pipeline).sort(), wanted);
      const finals: Record<string, string> = {};
      const reasons: string[] = [];
      for (const b of builds) {
        const view = await waitFor(
          async () => {
            const v = (await (await server.api(`/api/builds/${b.id}`)).json()) as BuildView;
            return ['success', 'skipped', 'failure', 'error', 'canceled'].includes(v.status) ? v : null;
          },
          30_000,
          `${c.name}: ${b.pipeline}`,
        );
        finals[b.pipeline] = view.status;
        if (view.status === 'error')
          reasons.push(`${b.pipeline}: ${view.jobs.map((j) => j.reason).join('; ')}`);
      }
      assert.deepEqual(finals, c.expect, reasons.join('\n'));
    });
  }
});
