import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogModel, parseLine } from '../../../src/http/dashboard/log-model.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const sys = (s: number, text: string) => `${at(s)} # ${text}`;
const out = (s: number, text: string) => `${at(s)}   ${text}`;
const err = (s: number, text: string) => `${at(s)} ! ${text}`;

function model(lines: string[]) {
  const m = new LogModel();
  for (const l of lines) m.add(l);
  return m;
}

describe('the log model of the build page', () => {
  it('parses the API text lines: time, stream, text', () => {
    assert.deepEqual(parseLine(err(3, 'boom'), 7), {
      n: 7,
      t: Date.parse(at(3)),
      stream: 'err',
      text: 'boom',
    });
    assert.equal(parseLine(sys(0, 'x'), 1).stream, 'sys');
    assert.deepEqual(parseLine('not a log line', 2), {
      n: 2,
      t: null,
      stream: 'out',
      text: 'not a log line',
    });
  });

  it('cuts the log into set-up and step sections with status and duration', () => {
    const m = model([
      sys(0, 'pushci: job unit, attempt 1, on vm'),
      sys(1, 'pushci: checking out abc'),
      sys(2, '▶ prepare  (bash --noprofile --norc -eo pipefail <script>)'),
      out(3, 'hello'),
      sys(4, 'pushci: step "prepare" succeeded in 2.0 s'),
      sys(4, '▶ run tests  (sh -e <script>)'),
      err(9, 'FAILED'),
      sys(10, 'pushci: step "run tests" failed with exit code 3 in 6.0 s'),
    ]);
    assert.deepEqual(
      m.sections.map((s) => [s.kind, s.name, s.status, s.lines, s.end! - s.start!]),
      [
        ['setup', 'Set up job', 'success', [1, 2], 2000],
        ['step', 'prepare', 'success', [3, 4, 5], 2000],
        ['step', 'run tests', 'failure', [6, 7, 8], 6000],
      ],
    );
    assert.equal(m.sections[2]!.shell, 'sh -e <script>');
  });

  it('keeps the last step running until the job ends, then gives it the job’s result', () => {
    const m = model([sys(0, '▶ deploy'), out(1, 'working')]);
    assert.equal(m.sections.at(-1)!.status, 'running');
    m.finish('canceled', Date.parse(at(5)));
    assert.equal(m.sections.at(-1)!.status, 'canceled');
    assert.equal(m.sections.at(-1)!.end, Date.parse(at(5)));
  });

  it('gives each service its own section after the steps, closed by how it ended', () => {
    const m = model([
      sys(0, 'pushci: starting service "db" on 127.0.0.1:5000'),
      sys(1, '▶ test  (bash)'),
      sys(2, 'pushci: step "test" succeeded in 1.0 s'),
      sys(3, '▶ service db  (bash)'),
      err(3, 'db log line'),
      sys(3, 'pushci: service "db" stopped with the job'),
      sys(3, '▶ service worker  (bash)'),
      sys(3, 'pushci: service "worker" failed: it ended by itself (exit code 2) before the job did'),
    ]);
    assert.deepEqual(
      m.sections.map((s) => [s.kind, s.name, s.status]),
      [
        ['setup', 'Set up job', 'success'],
        ['step', 'test', 'success'],
        ['step', 'service db', 'success'],
        ['step', 'service worker', 'failure'],
      ],
    );
    assert.equal(m.sections[2]!.lines.length, 3);
  });

  it('a job that fails before any step ends in its set-up section', () => {
    const m = model([sys(0, 'pushci: checking out abc'), sys(1, 'pushci: error: fatal: bad object')]);
    m.finish('error', Date.parse(at(1)));
    assert.deepEqual(
      m.sections.map((s) => [s.name, s.status]),
      [['Set up job', 'error']],
    );
  });

  it('gives a step skipped by its if: a section of its own', () => {
    const m = model([
      sys(0, '▶ a'),
      sys(1, 'pushci: step "a" failed with exit code 1 in 1.0 s'),
      sys(1, 'pushci: step "b" skipped (if: success())'),
    ]);
    assert.deepEqual(
      m.sections.map((s) => [s.name, s.status]),
      [
        ['a', 'failure'],
        ['b', 'skipped'],
      ],
    );
  });

  it('finds ::group:: sections inside a step, raw or as the runner shows them (▸ title)', () => {
    const m = model([
      sys(0, '▶ build'),
      out(1, '::group::Install'),
      out(1, 'dep 1'),
      out(1, '::endgroup::'),
      out(2, 'after'),
      out(3, '▸ Compile'),
      out(3, 'cc main.c'),
      sys(4, '▶ next'),
      out(5, 'in next'),
    ]);
    const [build, next] = m.sections;
    assert.deepEqual(
      build!.groups.map((g) => [g.title, g.start, g.lines]),
      [
        ['Install', 2, [3]],
        ['Compile', 6, [7]],
      ],
    );
    assert.equal(m.lines[3]!.hidden, true, 'the ::endgroup:: line itself is not shown');
    assert.deepEqual(next!.groups, [], 'a group ends with its step');
    // A pushci line that looks like a group is not one.
    assert.equal(model([sys(0, '▶ s'), sys(1, '▸ not a group')]).sections[0]!.groups.length, 0);
  });

  it('closes an action’s section with its own end line, after the steps inside it', () => {
    const m = model([
      sys(0, '▶ actions/checkout@v4  (uses: actions/checkout@v4)'),
      sys(0, 'pushci: actions/checkout: nothing to do, the workspace already is the commit'),
      sys(0, 'pushci: step "actions/checkout@v4" succeeded in 0.0 s'),
      sys(1, '▶ greet  (uses: octo-org/greet@v1)'),
      sys(1, '▶ greet / say  (bash)'),
      out(2, 'hello'),
      sys(2, 'pushci: step "greet / say" succeeded in 1.0 s'),
      sys(2, 'pushci: step "greet / later" skipped: its if: is false (failure())'),
      sys(3, 'pushci: step "greet" succeeded in 2.0 s'),
      sys(3, '▶ broken  (uses: ./broken)'),
      sys(3, '▶ broken / fail  (bash)'),
      sys(4, 'pushci: step "broken / fail" failed with exit code 1 in 1.0 s'),
      sys(4, 'pushci: step "broken" failed in 1.0 s'),
      // A log written before actions had end lines: the action's section ends where the next step starts.
      sys(5, '▶ old  (uses: ./old)'),
      sys(5, '▶ old / x  (bash)'),
      sys(6, 'pushci: step "old / x" succeeded in 1.0 s'),
      sys(6, '▶ after  (bash)'),
    ]);
    // In the log's order, by name: how each section ended.
    assert.deepEqual(Object.fromEntries(m.sections.map((s) => [s.name, s.status])), {
      'actions/checkout@v4': 'success',
      greet: 'success',
      'greet / say': 'success',
      'greet / later': 'skipped',
      broken: 'failure',
      'broken / fail': 'failure',
      old: 'unknown',
      'old / x': 'success',
      after: 'running',
    });
    assert.equal(m.sections.length, 9);
    const greet = m.sections[1]!;
    assert.equal(greet.end! - greet.start!, 2000, 'its steps’ time is the action’s');
    // An action's steps are inside its section; its end line is its own, after them.
    const parentOf = (name: string) => {
      const p = m.sections.find((x) => x.name === name)!.parent;
      return p === null ? null : m.sections[p]!.name;
    };
    assert.equal(parentOf('greet / say'), 'greet');
    assert.equal(parentOf('greet / later'), 'greet', 'a skipped step of the action is inside it too');
    assert.equal(parentOf('broken / fail'), 'broken');
    assert.equal(parentOf('old / x'), 'old');
    assert.equal(parentOf('after'), null);
    assert.deepEqual(greet.children, [2, 3]);
    assert.equal(m.sections[m.lines[8]!.section!]!.name, 'greet', 'the action’s end line is in its section');
  });

  it('nests an action’s pre (run at the job’s start) and post (at its end) in the action’s section', () => {
    const m = model([
      sys(0, '▶ Pre setup  (octo-org/setup@v1, node20, with /usr/bin/node)'),
      out(0, 'pre says hi'),
      sys(1, 'pushci: step "Pre setup" succeeded in 1.0 s'),
      sys(1, '▶ Pre user step  (bash)'),
      sys(2, 'pushci: step "Pre user step" succeeded in 1.0 s'),
      sys(2, '▶ setup  (uses: octo-org/setup@v1)'),
      sys(2, 'pushci: octo-org/setup@v1 (node20) runs with /usr/bin/node'),
      out(3, 'main says hi'),
      sys(4, 'pushci: step "setup" succeeded in 2.0 s'),
      sys(4, '▶ wrap  (uses: ./wrap)'),
      sys(4, '▶ wrap / inner  (uses: octo-org/inner@v1)'),
      sys(4, '▶ Pre wrap / inner  (octo-org/inner@v1, node20, with /usr/bin/node)'),
      sys(5, 'pushci: step "Pre wrap / inner" succeeded in 1.0 s'),
      out(5, 'inner main'),
      sys(6, 'pushci: step "wrap / inner" failed with exit code 1 in 2.0 s'),
      sys(6, 'pushci: step "wrap" failed in 2.0 s'),
      sys(7, '▶ Post setup'),
      err(7, 'post failed'),
      sys(8, 'pushci: step "Post setup" failed with exit code 1 in 1.0 s'),
    ]);
    const byName = (name: string) => m.sections.find((x) => x.name === name)!;
    const parentOf = (name: string) => {
      const p = byName(name).parent;
      return p === null ? null : m.sections[p]!.name;
    };
    assert.equal(parentOf('Pre setup'), 'setup', 'the pre moves into its action when the action starts');
    assert.equal(parentOf('Post setup'), 'setup');
    assert.equal(parentOf('Pre user step'), null, 'a step that is only named "Pre …" stays where it is');
    assert.equal(parentOf('wrap / inner'), 'wrap');
    assert.equal(parentOf('Pre wrap / inner'), 'wrap / inner', 'a pre run right before its main');
    assert.deepEqual(byName('setup').children, [byName('Pre setup').index, byName('Post setup').index]);
    // The main's lines after its pre are the action's again, not the pre's.
    const inner = byName('wrap / inner');
    assert.ok(inner.lines.includes(m.lines.findIndex((l) => l.text === 'inner main') + 1));
    assert.deepEqual(
      ['Pre setup', 'setup', 'Pre wrap / inner', 'wrap / inner', 'wrap', 'Post setup'].map(
        (n) => byName(n).status,
      ),
      ['success', 'success', 'success', 'failure', 'failure', 'failure'],
    );
    assert.equal(byName('Pre wrap / inner').end! - byName('Pre wrap / inner').start!, 1000);
  });
});
