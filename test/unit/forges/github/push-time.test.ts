import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { githubPushTime } from '../../../../src/forges/github/push-time.ts';

describe('githubPushTime: when a GitHub delivery says its push happened', () => {
  it("reads a push's repository.pushed_at as Unix seconds or ISO 8601", () => {
    assert.equal(githubPushTime('push', { repository: { pushed_at: 1557933657 } }), 1557933657000);
    assert.equal(
      githubPushTime('push', { repository: { pushed_at: '2019-05-15T15:20:57Z' } }),
      Date.parse('2019-05-15T15:20:57Z'),
    );
  });

  it("reads a pull request's pull_request.updated_at", () => {
    const at = '2026-12-01T10:00:00Z';
    assert.equal(githubPushTime('pull_request', { pull_request: { updated_at: at } }), Date.parse(at));
    assert.equal(githubPushTime('pull_request', { repository: { pushed_at: 1557933657 } }), null);
  });

  it("says nothing for a missing or unreadable time, and never takes the commit's own date", () => {
    for (const repository of [{}, { pushed_at: null }, { pushed_at: 'yesterday' }, { pushed_at: -5 }])
      assert.equal(githubPushTime('push', { repository }), null, JSON.stringify(repository));
    assert.equal(githubPushTime('push', {}), null);
    assert.equal(githubPushTime('push', { head_commit: { timestamp: '2013-02-22T13:50:07-08:00' } }), null);
  });
});
