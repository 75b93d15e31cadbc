import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pullRequestRef } from '../../../src/forges/pull-request-ref.ts';
import { FORGES, type ForgeName } from '../../../src/model.ts';

describe('pullRequestRef', () => {
  it("is each forge's own ref for a pull request's head, made from the number", () => {
    const want: Record<ForgeName, string | null> = {
      github: 'refs/pull/7/head',
      gitlab: 'refs/merge-requests/7/head',
      gitea: 'refs/pull/7/head',
      forgejo: 'refs/pull/7/head',
      bitbucket: null,
    };
    for (const forge of FORGES) assert.equal(pullRequestRef(forge, 7), want[forge], forge);
  });

  it('is null for a number that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN, 2 ** 60])
      assert.equal(pullRequestRef('github', n), null, String(n));
  });
});
