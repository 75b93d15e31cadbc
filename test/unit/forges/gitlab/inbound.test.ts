import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGitlabInbound } from '../../../../src/forges/gitlab/inbound.ts';
import { gitlabPush } from '../../../helpers/payloads.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('gitlab adapter', () => {
  const forge = createGitlabInbound({ tokens: ['t1', 't2'], signingTokens: [] });
  const body = Buffer.from(
    JSON.stringify(gitlabPush({ before: A, after: B, ref: 'refs/tags/v1', message: 'release [skip ci]' })),
  );
  it('compares tokens', async () => {
    await forge.verify({ headers: { 'x-gitlab-token': 't2' }, body });
    await assert.rejects(forge.verify({ headers: { 'x-gitlab-token': 't3' }, body }), {
      code: 'signature_mismatch',
    });
  });
  it('parses a tag push', () => {
    const r = forge.parse({
      headers: { 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-event-uuid': 'u1' },
      body,
    });
    assert.equal(r.kind, 'build');
    if (r.kind !== 'build') return;
    assert.equal(r.events[0]!.tag, 'v1');
    assert.equal(r.events[0]!.repository, 'group/app');
    assert.equal(r.events[0]!.headMessage, 'release [skip ci]');
    assert.equal(r.events[0]!.deliveryId, 'u1');
  });
  it('ignores other events', () => {
    const r = forge.parse({ headers: { 'x-gitlab-event': 'Issue Hook' }, body });
    assert.equal(r.kind, 'ignored');
  });
});
