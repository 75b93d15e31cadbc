import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGiteaInbound } from '../../../src/forges/gitea/inbound.ts';
import { createGithubInbound } from '../../../src/forges/github/inbound.ts';
import { createGitlabInbound } from '../../../src/forges/gitlab/inbound.ts';
import type { ForgeResult } from '../../../src/forges/forge.ts';
import { githubPush, gitlabPush } from '../../helpers/payloads.ts';

const TAG_OBJECT = '1'.repeat(40);
const COMMIT = 'c'.repeat(40);
const after = (r: ForgeResult) => (r.kind === 'build' ? r.events[0]!.after : null);

describe('an annotated tag builds the commit it tags, never the tag object', () => {
  it('GitHub: head_commit.id, not after', () => {
    const p = githubPush({ ref: 'refs/tags/v1', before: '0'.repeat(40), after: TAG_OBJECT });
    p.head_commit.id = COMMIT;
    const r = createGithubInbound(['s']).parse({
      headers: { 'x-github-event': 'push', 'x-github-delivery': 'd' },
      body: Buffer.from(JSON.stringify(p)),
    });
    assert.equal(after(r), COMMIT);
    const branch = githubPush({ ref: 'refs/heads/main', before: '0'.repeat(40), after: COMMIT });
    branch.head_commit.id = TAG_OBJECT;
    const b = createGithubInbound(['s']).parse({
      headers: { 'x-github-event': 'push', 'x-github-delivery': 'd' },
      body: Buffer.from(JSON.stringify(branch)),
    });
    assert.equal(after(b), COMMIT, 'a branch push builds after');
  });

  it('GitLab: checkout_sha, not after', () => {
    const p = {
      ...gitlabPush({ ref: 'refs/tags/v1', before: '0'.repeat(40), after: TAG_OBJECT }),
      checkout_sha: COMMIT,
    };
    const r = createGitlabInbound({ tokens: ['t'], signingTokens: [] }).parse({
      headers: { 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-event-uuid': 'u' },
      body: Buffer.from(JSON.stringify(p)),
    });
    assert.equal(after(r), COMMIT);
  });

  it('Gitea and Forgejo: head_commit.id when they send it', () => {
    const body = Buffer.from(
      JSON.stringify({
        ref: 'refs/tags/v1',
        before: '0'.repeat(40),
        after: TAG_OBJECT,
        repository: { full_name: 'team/app' },
        head_commit: { id: COMMIT, message: 'tagged' },
      }),
    );
    const r = createGiteaInbound('forgejo', ['s']).parse({
      headers: { 'x-forgejo-event': 'push', 'x-forgejo-delivery': 'd' },
      body,
    });
    assert.equal(after(r), COMMIT);
  });
});
