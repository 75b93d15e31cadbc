import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';

const JOBS = `jobs:\n  a:\n    steps:\n      - run: 'true'\n`;
const load = (on: string, extra = '') =>
  loadPipelineSource('p.yml', Buffer.from(`repository: o/r\non:${on}\n${extra}${JOBS}`), {});
const problems = (on: string, extra = '') => load(on, extra).diagnostics.map(formatDiagnostic);

describe('on: (the events a pipeline builds)', () => {
  it('takes one event, a list of events, or a map with filters', () => {
    const one = load(' push').pipeline!;
    assert.ok(one.trigger);
    assert.equal(one.pullRequest, null);
    const list = load(' [push, pull_request]').pipeline!;
    assert.ok(list.trigger);
    assert.deepEqual(list.pullRequest?.types, ['opened', 'synchronize', 'reopened']);
    const prOnly = load('\n  pull_request:\n    branches: [main]\n    types: [opened]\n').pipeline!;
    assert.equal(prOnly.trigger, null, 'no push in on: means pushes start nothing');
    assert.deepEqual(prOnly.pullRequest?.types, ['opened']);
    assert.equal(prOnly.pullRequest?.branches?.[0]?.pattern, 'main');
  });

  it('reads schedules, manual inputs, the fork policy and secret scopes', () => {
    const p = load(
      `\n  schedule:\n    - cron: '0 3 * * *'\n    - cron: '*/5 * * * *'\n      branch: release\n      always: true\n  workflow_dispatch:\n    inputs:\n      level:\n        type: choice\n        options: [low, high]\n        default: low\n      dry:\n        type: boolean\n        required: true\n`,
      `pull-requests:\n  forks: never\nsecrets:\n  DEPLOY:\n    events: [push]\n    branches: [main]\n`,
    ).pipeline!;
    assert.deepEqual(p.schedules, [
      { cron: '0 3 * * *', branch: null, always: false },
      { cron: '*/5 * * * *', branch: 'release', always: true },
    ]);
    assert.deepEqual(
      p.inputs?.map((i) => [i.name, i.type, i.required, i.default, i.options]),
      [
        ['level', 'choice', false, 'low', ['low', 'high']],
        ['dry', 'boolean', true, null, null],
      ],
    );
    assert.equal(p.forks, 'never');
    assert.deepEqual(p.secretScopes?.DEPLOY?.events, ['push']);
  });

  it('reports every problem with its position', () => {
    assert.deepEqual(
      problems(
        `\n  pull_request:\n    types: [closed]\n  schedule:\n    - cron: '61 * * * *'\n    - cron: '* * *'\n      branch: '-evil'\n  workflow_dispatch:\n    inputs:\n      pick:\n        type: choice\n      n:\n        type: number\n        default: many\n`,
      ),
      [
        'p.yml:4:13: on.pull_request.types[0] must be one of "opened", "synchronize", "reopened", not the text "closed"',
      ],
    );
    assert.deepEqual(
      problems(
        `\n  schedule:\n    - cron: '61 * * * *'\n    - cron: '* * *'\n      branch: '-evil'\n  workflow_dispatch:\n    inputs:\n      pick:\n        type: choice\n      n:\n        type: number\n        default: many\n`,
      ),
      [
        'p.yml:4:13: bad cron "61 * * * *": Constraint error, got value 61 expected range 0-59',
        'p.yml:5:13: bad cron "* * *": it has 3 fields; write five: minute hour day-of-month month day-of-week',
        'p.yml:6:15: "-evil" is not a valid branch name',
        'p.yml:9:7: input "pick" is a choice: give its options',
        'p.yml:13:18: default of input "n" must be a number',
      ],
    );
    assert.deepEqual(problems(' [push, schedule]'), [
      'p.yml:2:12: on[1] must be one of "push", "pull_request", "workflow_dispatch", not the text "schedule"',
    ]);
  });

  it("says of each of GitHub's other events that it is not supported, and what to do instead", () => {
    assert.deepEqual(problems('\n  push:\n  pull_request_target:\n  release:\n    types: [published]\n'), [
      'p.yml:4:3: not supported: the pull_request_target event (pushci builds on push, pull_request, schedule and workflow_dispatch); it gives a fork’s pull request the base repository’s secrets; use pull_request, whose fork builds follow pull-requests.forks (approval first by default, never secrets)',
      'p.yml:5:3: not supported: the release event (pushci builds on push, pull_request, schedule and workflow_dispatch); build the release’s tag with on.push.tags (e.g. tags: [v*])',
    ]);
    assert.deepEqual(problems(' [push, workflow_call]'), [
      'p.yml:2:12: not supported: the workflow_call event (pushci builds on push, pull_request, schedule and workflow_dispatch); reusable workflows: copy this file’s jobs into the pipelines that would call it',
    ]);
    assert.deepEqual(problems(' issues'), [
      'p.yml:2:5: not supported: the issues event (pushci builds on push, pull_request, schedule and workflow_dispatch)',
    ]);
    // The control: an event pushci has, and a typo, which stays an unknown key with a suggestion.
    assert.deepEqual(problems(' [push, workflow_dispatch]'), []);
    assert.match(problems('\n  pushh:\n')[0]!, /unknown key "pushh" in on \(did you mean "push"\?\)/);
  });

  it('suggests the key a typo meant, in every part of on: and the trust settings', () => {
    assert.deepEqual(
      problems(
        `\n  pull_request:\n    branch: [main]\n  workflow_dispatch:\n    inputs:\n      x:\n        typ: string\n`,
        `pull-requests:\n  fork: run\nsecrets:\n  KEY:\n    event: [push]\n`,
      ),
      [
        'p.yml:4:5: unknown key "branch" in on.pull_request (did you mean "branches"?)',
        'p.yml:8:9: unknown key "typ" in on.workflow_dispatch.inputs.x (did you mean "type"?)',
        'p.yml:11:3: unknown key "fork" in pull-requests (did you mean "forks"?)',
        'p.yml:14:5: unknown key "event" in secrets.KEY (did you mean "events"?)',
      ],
    );
  });
});
