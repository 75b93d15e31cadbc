import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import { forgeNamed } from '../../../src/forges/registry.ts';

describe('Gitea and Forgejo commit statuses', () => {
  const status = {
    repository: 'team/app',
    sha: 'a'.repeat(40),
    ref: 'feature',
    status: 'pending-approval' as const,
    context: 'pushci/app',
    description: 'waiting for approval: a pull request from a fork',
    targetUrl: 'https://ci.example.com/api/builds/b1',
  };

  it('posts to the forge API under its base URL with its own token', () => {
    const config = loadConfig({ PUSHCI_FORGEJO_URL: 'https://git.example.org/', FORGEJO_TOKEN: 'fj-tok' });
    const call = forgeNamed('forgejo').commitStatus!(status, config);
    assert.equal(call.url, `https://git.example.org/api/v1/repos/team/app/statuses/${'a'.repeat(40)}`);
    assert.equal(call.headers.authorization, 'token fj-tok');
    assert.deepEqual(JSON.parse(call.body), {
      state: 'pending',
      target_url: status.targetUrl,
      description: status.description,
      context: 'pushci/app',
    });
  });

  it('says which token is missing', () => {
    assert.throws(() => forgeNamed('gitea').commitStatus!(status, loadConfig({})), /GITEA_TOKEN is not set/);
  });
});
