import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createBitbucketInbound } from '../../../src/forges/bitbucket/inbound.ts';
import { createGiteaInbound } from '../../../src/forges/gitea/inbound.ts';
import { createGithubInbound } from '../../../src/forges/github/inbound.ts';
import { createGitlabInbound } from '../../../src/forges/gitlab/inbound.ts';
import type { ForgeResult } from '../../../src/forges/forge.ts';
import { githubPullRequest } from '../../helpers/payloads.ts';

const FIX = join(import.meta.dirname, '../../fixtures');
const fixture = (name: string) => JSON.parse(readFileSync(join(FIX, name), 'utf8')) as Record<string, any>;
const body = (p: unknown) => Buffer.from(JSON.stringify(p));
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

function pullRequest(r: ForgeResult) {
  assert.equal(r.kind, 'build');
  if (r.kind !== 'build') throw new Error('not a build');
  const e = r.events[0]!;
  assert.equal(e.kind, 'pull_request');
  if (e.kind !== 'pull_request') throw new Error('not a pull request');
  return e;
}

describe('pull request payloads, per forge', () => {
  it('GitHub: opened, synchronize and reopened build; a fork is another repository id', () => {
    const gh = createGithubInbound(['s']);
    const parse = (p: unknown) =>
      gh.parse({ headers: { 'x-github-event': 'pull_request', 'x-github-delivery': 'd' }, body: body(p) });
    const e = pullRequest(parse(githubPullRequest({ number: 5, head: B, base: A, source: 'feat' })));
    assert.equal(e.ref, 'refs/pull/5/head');
    assert.equal(e.after, B);
    assert.equal(e.before, A);
    assert.deepEqual(e.pullRequest, {
      number: 5,
      action: 'opened',
      title: 'A change',
      source_branch: 'feat',
      target_branch: 'main',
      head_repository: 'octo-org/web',
      fork: false,
    });
    const fork = pullRequest(parse(githubPullRequest({ number: 5, head: B, base: A, headRepo: 'eve/web' })));
    assert.equal(fork.pullRequest.fork, true);
    // A fork renamed to the base's name is still another repository (ids differ).
    const renamed = githubPullRequest({ number: 5, head: B, base: A });
    renamed.pull_request.head.repo.id += 1;
    assert.equal(pullRequest(parse(renamed)).pullRequest.fork, true);
    const gone = githubPullRequest({ number: 5, head: B, base: A });
    gone.pull_request.head.repo = null;
    assert.equal(pullRequest(parse(gone)).pullRequest.fork, true, 'a deleted head repository is a fork');
    for (const action of ['synchronize', 'reopened'])
      assert.equal(
        pullRequest(parse(githubPullRequest({ action, number: 5, head: B, base: A }))).pullRequest.action,
        action,
      );
    for (const action of ['closed', 'labeled', 'edited', 'synchronized', 'toString']) {
      const r = parse(githubPullRequest({ action, number: 5, head: B, base: A }));
      assert.deepEqual(r, {
        kind: 'ignored',
        event: 'pull_request',
        deliveryId: 'd',
        reason: `pull request ${action}: only opened, synchronize and reopened build`,
      });
    }
    const evil = githubPullRequest({ number: 5, head: B, base: A, source: '--upload-pack=x' });
    evil.pull_request.head.ref = 'a..b';
    assert.throws(() => parse(evil), { code: 'malformed_payload' });
  });

  it('GitLab: open, reopen and updates with new commits build; a fork is another source project', () => {
    const gl = createGitlabInbound({ tokens: ['t'], signingTokens: [] });
    const parse = (p: unknown) =>
      gl.parse({
        headers: { 'x-gitlab-event': 'Merge Request Hook', 'x-gitlab-event-uuid': 'u' },
        body: body(p),
      });
    const mr = fixture('gitlab/merge-request.json');
    const e = pullRequest(parse(mr));
    assert.equal(e.forge, 'gitlab');
    assert.equal(e.repository, 'gitlabhq/gitlab-test');
    assert.equal(e.ref, 'refs/merge-requests/1/head');
    assert.equal(e.after, 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7');
    assert.deepEqual(e.pullRequest, {
      number: 1,
      action: 'opened',
      title: 'MS-Viewport',
      source_branch: 'ms-viewport',
      target_branch: 'master',
      head_repository: 'awesome_space/awesome_project',
      fork: false,
    });
    const update = structuredClone(mr);
    update.object_attributes.action = 'update';
    assert.equal(
      parse(update).kind,
      'ignored',
      'an update without new commits (a title edit) builds nothing',
    );
    update.object_attributes.oldrev = A;
    assert.equal(pullRequest(parse(update)).pullRequest.action, 'synchronize');
    const fork = structuredClone(mr);
    fork.object_attributes.source_project_id = 15;
    assert.equal(pullRequest(parse(fork)).pullRequest.fork, true);
    for (const action of ['close', 'merge', 'approved']) {
      const other = structuredClone(mr);
      other.object_attributes.action = action;
      assert.equal(parse(other).kind, 'ignored');
    }
  });

  it('Gitea and Forgejo: opened, synchronized and reopened build, from the merge base', () => {
    for (const name of ['gitea', 'forgejo'] as const) {
      const gt = createGiteaInbound(name, ['s']);
      const parse = (p: unknown) =>
        gt.parse({
          headers: { [`x-${name}-event`]: 'pull_request', [`x-${name}-delivery`]: 'd' },
          body: body(p),
        });
      const pr = fixture('gitea/pull-request.json');
      const e = pullRequest(parse(pr));
      assert.equal(e.forge, name);
      assert.equal(e.ref, 'refs/pull/2/head');
      assert.equal(e.after, 'bffeb74224043ba2feb48d137756c8a9331c449a');
      assert.equal(e.before, '28e1879d029cb852e4844d9c718537df08844e03');
      assert.equal(e.pullRequest.fork, false);
      assert.equal(e.pullRequest.target_branch, 'main');
      const sync = structuredClone(pr);
      sync.action = 'synchronized';
      assert.equal(pullRequest(parse(sync)).pullRequest.action, 'synchronize');
      const fork = structuredClone(pr);
      fork.pull_request.head.repo_id = 141;
      fork.pull_request.head.repo.id = 141;
      fork.pull_request.head.repo.full_name = 'eve/webhooks';
      assert.equal(pullRequest(parse(fork)).pullRequest.fork, true);
      // Gitea's own spelling only; and an action named like an object's property is no action.
      for (const action of ['closed', 'synchronize', 'toString', '__proto__']) {
        const other = structuredClone(pr);
        other.action = action;
        assert.deepEqual(parse(other), {
          kind: 'ignored',
          event: 'pull_request',
          deliveryId: 'd',
          reason: `pull request ${action}: only opened, synchronized and reopened build`,
        });
      }
    }
  });

  it('Bitbucket: created and updated build with the abbreviated head; a fork is another repository uuid', () => {
    const bb = createBitbucketInbound(['s']);
    const parse = (p: unknown, event = 'pullrequest:created') =>
      bb.parse({ headers: { 'x-event-key': event, 'x-request-uuid': 'u' }, body: body(p) });
    const pr = fixture('bitbucket/pull-request.json');
    const e = pullRequest(parse(pr));
    assert.equal(e.forge, 'bitbucket');
    assert.equal(e.repository, 'team_name/repo_name');
    assert.equal(e.ref, 'refs/pull-requests/4/from');
    assert.equal(e.after, 'd3a9c2b1f07e', 'the prefix, until the receiver resolves it');
    assert.equal(e.abbreviated, true);
    assert.equal(e.before, '0'.repeat(12));
    assert.equal(e.pusher, 'emma');
    assert.deepEqual(e.pullRequest, {
      number: 4,
      action: 'opened',
      title: 'Add the widget',
      source_branch: 'feature/widget',
      target_branch: 'main',
      head_repository: 'team_name/repo_name',
      fork: false,
    });
    assert.equal(pullRequest(parse(pr, 'pullrequest:updated')).pullRequest.action, 'synchronize');
    const fork = structuredClone(pr);
    fork.pullrequest.source.repository.uuid = '{0c0ffee0-0000-4000-8000-000000000001}';
    fork.pullrequest.source.repository.full_name = 'eve/repo_name';
    const f = pullRequest(parse(fork)).pullRequest;
    assert.equal(f.fork, true);
    assert.equal(f.head_repository, 'eve/repo_name');
    // Renamed to the base's name, it is still another repository (the uuids differ).
    fork.pullrequest.source.repository.full_name = 'team_name/repo_name';
    assert.equal(pullRequest(parse(fork)).pullRequest.fork, true);
    const gone = structuredClone(pr);
    gone.pullrequest.source.repository = null;
    assert.equal(pullRequest(parse(gone)).pullRequest.fork, true, 'a deleted source repository is a fork');
    for (const event of ['pullrequest:fulfilled', 'pullrequest:rejected', 'pullrequest:approved']) {
      const r = parse(pr, event);
      assert.equal(r.kind, 'ignored', event);
    }
    const evil = structuredClone(pr);
    evil.pullrequest.source.commit.hash = '--upload-pack';
    assert.throws(() => parse(evil), { code: 'malformed_payload' });
    const badBranch = structuredClone(pr);
    badBranch.pullrequest.source.branch.name = 'a..b';
    assert.throws(() => parse(badBranch), { code: 'malformed_payload' });
  });
});
