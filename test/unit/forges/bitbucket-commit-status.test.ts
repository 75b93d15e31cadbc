import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import { forgeNamed } from '../../../src/forges/registry.ts';
import type { BuildStatus } from '../../../src/model.ts';

describe('Bitbucket build statuses', () => {
  const status = (s: BuildStatus) => ({
    repository: 'team/app',
    sha: 'a'.repeat(40),
    ref: 'refs/pull-requests/4/from',
    status: s,
    context: 'pushci/app',
    description: 'running',
    targetUrl: 'https://ci.example.com/#/builds/b1',
  });

  it('posts the build status of the commit to the API base with a Bearer token', () => {
    const config = loadConfig({ PUSHCI_BITBUCKET_API_URL: 'https://bb.example/', BITBUCKET_TOKEN: 'bb-tok' });
    const call = forgeNamed('bitbucket').commitStatus!(status('running'), config);
    assert.equal(
      call.url,
      `https://bb.example/2.0/repositories/team/app/commit/${'a'.repeat(40)}/statuses/build`,
    );
    assert.equal(call.headers.authorization, 'Bearer bb-tok');
    assert.deepEqual(JSON.parse(call.body), {
      key: 'pushci/app',
      state: 'INPROGRESS',
      name: 'pushci/app',
      url: 'https://ci.example.com/#/builds/b1',
      description: 'running',
    });
    const state = (s: BuildStatus) =>
      (JSON.parse(forgeNamed('bitbucket').commitStatus!(status(s), config).body) as { state: string }).state;
    assert.deepEqual(
      (['pending-approval', 'queued', 'success', 'failure', 'error', 'canceled', 'skipped'] as const).map(
        state,
      ),
      ['INPROGRESS', 'INPROGRESS', 'SUCCESSFUL', 'FAILED', 'FAILED', 'STOPPED', 'SUCCESSFUL'],
    );
  });

  it('says which token is missing', () => {
    assert.throws(
      () => forgeNamed('bitbucket').commitStatus!(status('queued'), loadConfig({})),
      /BITBUCKET_TOKEN is not set/,
    );
  });
});
