import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';

const check = (text: string) =>
  loadPipelineSource('p.yml', Buffer.from(text), {}).diagnostics.map(formatDiagnostic);

describe('validate shows every problem in one run, in plain words', () => {
  it('a schema error does not hide graph, pattern, expression and secret problems', () => {
    assert.deepEqual(
      check(`repository: octo-org/web
on:
  push:
    branches: ['[x']
jobs:
  a:
    needs: [a, ghost]
    continue-on-error: maybe
    steps:
      - run: echo \${{ nope.x }}
      - run: 42
`),
      [
        'p.yml:4:17: bad pattern "[x": "[" has no closing "]"',
        'p.yml:7:13: job "a" needs itself',
        'p.yml:7:16: job "a" needs "ghost", which is not a job in this file',
        'p.yml:8:24: jobs.a.continue-on-error: must be true or false or a ${{ }} expression',
        'p.yml:10:23: unknown context "nope"; a step\'s run can use github, needs, strategy, matrix, job, runner, env, vars, secrets, steps, inputs',
        'p.yml:11:14: jobs.a.steps[1].run must be text, not the number 42',
      ],
    );
  });

  it('a missing on: says so, at the top of the file, with what to write', () => {
    assert.deepEqual(check('# CI\nrepository: octo-org/web\njobs:\n  a:\n    steps:\n      - run: make\n'), [
      'p.yml:2:1: missing required key "on": say which events start the pipeline, e.g. "on: push" or "on: [push, pull_request]"',
    ]);
  });

  it('an indentation slip is one message, and problems above it are still found', () => {
    assert.deepEqual(
      check(`repository: octo-org/web
on: push
jobs:
  build:
    needs: [nope]
    steps:
      - run: make
  test:
    steps:
      - run: make test
     - run: misindented
`),
      [
        'p.yml:5:13: job "build" needs "nope", which is not a job in this file',
        'p.yml:11:1: this "- item" line is indented less than the list it belongs to: line it up with the other items of that list',
      ],
    );
  });
});
