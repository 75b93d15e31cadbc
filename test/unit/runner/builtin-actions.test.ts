import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkoutPlan } from '../../../src/runner/builtin-actions.ts';

describe('actions/checkout', () => {
  const build = { repository: 'octo-org/web', sha: 'a'.repeat(40), ref: 'refs/heads/main' };
  it('does nothing for the build’s own commit, names ignored inputs, copies to path', () => {
    assert.deepEqual(checkoutPlan({}, build), {
      path: null,
      notes: ['actions/checkout: nothing to do, the workspace already is the commit'],
    });
    const p = checkoutPlan(
      { 'fetch-depth': '0', token: 't', path: 'sub/dir/', ref: 'main', repository: 'Octo-Org/Web' },
      build,
    );
    assert.ok('path' in p);
    assert.equal(p.path, 'sub/dir');
    assert.match(p.notes[0]!, /ignored token, fetch-depth/);
  });
  it('refuses other repositories, other refs and paths out of the workspace', () => {
    assert.match(
      (checkoutPlan({ repository: 'other/repo' }, build) as { problem: string }).problem,
      /another repository/,
    );
    assert.match(
      (checkoutPlan({ ref: 'v2' }, build) as { problem: string }).problem,
      /ref "v2" is not supported/,
    );
    for (const path of ['../x', '/etc', '-x', 'a/../../b'])
      assert.ok('problem' in checkoutPlan({ path }, build), path);
  });
});
