import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';
import type { BuildMeta } from '../../../src/queue/build-record.ts';
import { environmentFor, secretAllowed } from '../../../src/runner/secret-access.ts';
import { newBuild } from '../../helpers/builds.ts';

const text = `repository: o/r
on: [push, pull_request]
secrets:
  DEPLOY:
    events: [push]
    branches: [main]
jobs:
  a:
    steps:
      - run: 'true'
`;
const def = loadPipelineSource('p.yml', Buffer.from(text), {}).pipeline!;

/** A push to o/r main, with `o` over it. */
const meta = (o: Partial<BuildMeta>): BuildMeta => ({ ...newBuild(def).meta, repository: 'o/r', ...o });

const pr = (fork: boolean, target = 'main') => ({
  number: 3,
  action: 'opened' as const,
  title: null,
  source_branch: 'x',
  target_branch: target,
  head_repository: fork ? 'm/r' : 'o/r',
  fork,
});

describe('who may read a secret', () => {
  it('follows the pipeline’s scope, a re-run counting as its original event', () => {
    const table: Array<[string, Partial<BuildMeta>, string, boolean]> = [
      ['a push to main', {}, 'DEPLOY', true],
      ['a push to a scratch branch', { branch: 'scratch', ref: 'refs/heads/scratch' }, 'DEPLOY', false],
      ['a manual build of main', { event: 'manual', original_event: 'manual' }, 'DEPLOY', false],
      ['a re-run of a push to main', { event: 'rerun', original_event: 'push' }, 'DEPLOY', true],
      ['a re-run of a manual build', { event: 'rerun', original_event: 'manual' }, 'DEPLOY', false],
      [
        'a same-repository pull request into main',
        { event: 'pull_request', original_event: 'pull_request', branch: null, pull_request: pr(false) },
        'DEPLOY',
        false,
      ],
      [
        'a same-repository pull request, an unscoped secret',
        { event: 'pull_request', original_event: 'pull_request', branch: null, pull_request: pr(false) },
        'NPM',
        true,
      ],
      [
        'a fork’s pull request, an unscoped secret',
        { event: 'pull_request', original_event: 'pull_request', branch: null, pull_request: pr(true) },
        'NPM',
        false,
      ],
      [
        'a re-run of a fork’s pull request',
        { event: 'rerun', original_event: 'pull_request', branch: null, pull_request: pr(true) },
        'NPM',
        false,
      ],
    ];
    for (const [what, m, name, expected] of table)
      assert.equal(secretAllowed(def, meta(m), name), expected, what);
  });

  it('empties what a build may not read, and keeps everything else', () => {
    const server = { PUSHCI_SECRET_DEPLOY: 'k1', PUSHCI_SECRET_NPM: 'k2', PLAIN: 'p' };
    const { env, withheld } = environmentFor(def, meta({ branch: 'dev', ref: 'refs/heads/dev' }), server);
    assert.deepEqual(env, { PUSHCI_SECRET_DEPLOY: '', PUSHCI_SECRET_NPM: 'k2', PLAIN: 'p' });
    assert.deepEqual(withheld, ['DEPLOY']);
  });
});
