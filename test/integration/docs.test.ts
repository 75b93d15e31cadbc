import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SETTINGS } from '../../src/settings.ts';
import { baseEnv } from '../../src/runner/step-env.ts';
import type { BuildRecord } from '../../src/queue/build-record.ts';
import type { JobDef } from '../../src/pipelines/pipeline.ts';
import { EVENT_KINDS } from '../../src/core/event.ts';
import { BUILD_STATUSES, JOB_STATUSES } from '../../src/core/states.ts';
import { FORGES, OUTBOUND_EVENT_TYPES } from '../../src/model.ts';
import { buildSchema, jobSchema, pullRequestSchema } from '../../src/notify/payloads.ts';
import { makeRepo } from '../helpers/git.ts';
import { spawnPushci } from '../helpers/process.ts';

const ROOT = join(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const CONFIGURATION = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');

/** The rows of the first Markdown table after `heading` (cells trimmed, header and rule skipped). */
function tableAfter(heading: string, text = README): string[][] {
  const at = text.indexOf(heading);
  assert.ok(at >= 0, `the document has "${heading}"`);
  const lines = text.slice(at).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows.slice(2);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

describe('the README cannot drift from the code', () => {
  it('every link of the README (the contents included) leads to a heading or a file that exists', () => {
    const headings = new Set(
      [...README.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,4} (.+)$/gm)].map((m) => slug(m[1]!)),
    );
    const anchors = [...README.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
    assert.ok(anchors.length >= 25, 'the contents link the sections');
    for (const a of anchors) assert.ok(headings.has(a), `#${a} is a heading of the README`);
    const files = [...README.matchAll(/\]\(((?:docs\/)?[\w./-]+\.md)\)/g)].map((m) => m[1]!);
    assert.ok(files.includes('docs/configuration.md'));
    for (const f of files) assert.ok(existsSync(join(ROOT, f)), `${f} exists`);
  });

  it('the CLI table lists exactly the commands pushci --help lists, in its order', () => {
    const help = execFileSync(process.execPath, [join(ROOT, 'src/cli.ts'), '--help'], { encoding: 'utf8' });
    const listed = [...help.matchAll(/^ {2}pushci ([a-z-]+)/gm)].map((m) => m[1]!);
    assert.ok(listed.length >= 10, help);
    const documented = tableAfter('The CLI: `npx pushci <command>`').map(
      (row) => /^`pushci ([a-z-]+)/.exec(row[0]!)?.[1] ?? row[0],
    );
    assert.deepEqual(documented, listed);
  });

  it('docs/configuration.md has one row per setting, with its flag and default; the README’s rows agree', () => {
    const rows = tableAfter('# pushci configuration', CONFIGURATION);
    const byEnv = new Map(rows.map((r) => [r[0]!.replaceAll('`', ''), r]));
    assert.equal(rows.length, SETTINGS.length, 'no row for a setting that does not exist');
    const short = tableAfter('## Configuration');
    assert.ok(short.length >= 5, 'the README keeps the settings a first setup needs');
    for (const row of short) assert.deepEqual(row, byEnv.get(row[0]!.replaceAll('`', '')), row[0]);
    for (const s of SETTINGS) {
      const row = byEnv.get(s.env);
      assert.ok(row, `${s.env} has a row in docs/configuration.md`);
      assert.equal(row[1]!.replaceAll('`', ''), `--${s.flag}`, `${s.env}'s flag`);
      const dflt = row[2]!.replaceAll('`', '');
      if (s.default === undefined) assert.equal(dflt, '—', `${s.env} has no default`);
      else assert.ok(dflt.includes(s.default), `${s.env}'s default ${s.default} (README: ${dflt})`);
    }
    assert.deepEqual(
      [...byEnv.keys()].filter((env) => !SETTINGS.some((s) => s.env === env)),
      [],
      'rows for settings pushci does not read',
    );
  });

  it('the step environment table names exactly the variables a real step gets', async () => {
    const section = README.slice(README.indexOf('**Step environment:**'));
    const intro = section.slice(0, section.indexOf('|'));
    const after = section.slice(
      section.indexOf('\n\n', section.indexOf('|')),
      section.indexOf('**Step command files'),
    );
    const names = (text: string) =>
      [...text.matchAll(/`([A-Z][A-Z0-9_]*(?:<[A-Za-z]+>)?)`/g)].map((m) => m[1]!);
    const documented = new Set([
      ...names(intro),
      ...tableAfter('**Step environment:**').flatMap((row) => names(row[0]!)),
    ]);
    // The paragraph after the table: what a node action's processes get on top, never a `run:` step.
    const forActions = [...new Set(names(after).filter((n) => n.startsWith('ACTIONS_')))].sort();
    assert.deepEqual(forActions, ['ACTIONS_CACHE_URL', 'ACTIONS_RESULTS_URL', 'ACTIONS_RUNTIME_TOKEN']);
    // A real step of a push build and of a pull request build, in the sandbox, from `pushci run`.
    const repo = makeRepo([
      {
        'pipelines/ci.yml': `repository: octo-org/demo
on: [push, pull_request]
jobs:
  build:
    steps:
      - run: |
          echo "sha \${{ github.sha }}"
          export -p | grep '^declare -x' | cut -d' ' -f3 | cut -d= -f1 | sed 's/^/ENVNAME /'
`,
      },
    ]);
    const seen = new Set<string>();
    for (const event of ['push', 'pull_request']) {
      const p = spawnPushci(
        ['run', '--event', event],
        {
          PUSHCI_RUNNER: 'sandbox',
          USER: 'someone',
          LOGNAME: 'someone',
          LANG: 'C.UTF-8',
          LC_ALL: 'C.UTF-8',
          LC_CTYPE: 'C.UTF-8',
          TZ: 'UTC',
          TMPDIR: '/tmp',
          NOT_FOR_STEPS: 'x',
        },
        { cwd: repo.dir },
      );
      const code = await p.exited;
      const out = p.output.join('');
      assert.equal(code, 0, out);
      for (const m of out.matchAll(/ENVNAME ([A-Za-z_][A-Za-z0-9_]*)/g)) seen.add(m[1]!);
    }
    assert.ok(seen.has('CI_COMMIT_SHA') && seen.has('CI_COMMIT_PULL_REQUEST'), [...seen].join(' '));
    assert.ok(!seen.has('NOT_FOR_STEPS'), 'the worker’s other variables never reach a step');
    // What only tags, schedules and manual builds set, from the code that sets it.
    const record = {
      meta: { tag: 'v1', branch: null, cron: '0 3 * * *', inputs: { 'dry-run': 'true' }, pull_request: null },
      number: 1,
    } as unknown as BuildRecord;
    for (const k of Object.keys(baseEnv(record, { name: 'j' } as JobDef, { workspace: '/w', serverEnv: {} })))
      seen.add(k);
    // The shell's own variables, and the ones a step's `run` and inputs produce by pattern.
    for (const k of ['PWD', 'OLDPWD', 'SHLVL', '_']) seen.delete(k);
    const byPattern = (k: string) =>
      k.replace(/^PUSHCI_EXPR_\d+$/, 'PUSHCI_EXPR_<n>').replace(/^INPUT_[A-Z0-9_]+$/, 'INPUT_<NAME>');
    const real = new Set([...seen].map(byPattern));
    assert.deepEqual(
      [...real].filter((k) => !documented.has(k)).sort(),
      [],
      'variables steps get that the README does not list',
    );
    assert.deepEqual(
      [...documented].filter((k) => !real.has(k)).sort(),
      [],
      'variables the README lists that no step gets',
    );
    assert.deepEqual(
      forActions.filter((k) => real.has(k)),
      [],
      'a run: step gets none of the variables the README gives actions only',
    );
  });

  it('the outbound payload description has the fields, types and statuses of the payload schemas', () => {
    const section = README.slice(README.indexOf('## Outbound status webhooks'));
    const prose = section.slice(0, section.indexOf('Verify with'));
    const example = JSON.parse(/```json\n([\s\S]*?)```/.exec(prose)![1]!) as {
      type: string;
      data: { build: Record<string, unknown> & { jobs: Array<Record<string, unknown>> } };
    };
    const build = example.data.build;
    assert.deepEqual(Object.keys(build).sort(), Object.keys(buildSchema.shape).sort(), 'the example build');
    assert.deepEqual(
      Object.keys(build.jobs[0]!).sort(),
      Object.keys(jobSchema.shape).sort(),
      'the example job',
    );
    assert.ok(OUTBOUND_EVENT_TYPES.includes(example.type as never), example.type);
    assert.ok(BUILD_STATUSES.includes(build.status as never), String(build.status));
    assert.ok(EVENT_KINDS.includes(build.event as never), String(build.event));
    assert.ok(FORGES.includes(build.forge as never), String(build.forge));
    const ticked = (text: string) => [...text.matchAll(/`([a-z_.-]+)`/g)].map((m) => m[1]!);
    const after = (label: RegExp) => {
      const m = label.exec(prose);
      assert.ok(m, `the README says ${label}`);
      return m[1]!;
    };
    assert.deepEqual(
      ticked(after(/Types: ([^.]*(?:\.[a-z][^.]*)*)\. `event`/)).filter((t) => t.includes('.')),
      [...OUTBOUND_EVENT_TYPES],
    );
    assert.deepEqual(ticked(after(/`event` says what started the build \(([^)]*)\)/)), [...EVENT_KINDS]);
    assert.deepEqual(
      after(/`pull_request` is `\{([^}]*)\}`/)
        .split(',')
        .map((k) => k.trim()),
      Object.keys(pullRequestSchema.shape),
    );
    assert.deepEqual(ticked(after(/Build statuses: ([^;]*);/)), [...BUILD_STATUSES]);
    assert.deepEqual(
      ticked(after(/; jobs\s+also ([^.]*)\./)),
      JOB_STATUSES.filter((s) => !(BUILD_STATUSES as readonly string[]).includes(s)),
    );
  });
});
