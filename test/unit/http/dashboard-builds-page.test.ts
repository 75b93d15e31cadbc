import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EVENT_KINDS } from '../../../src/core/event.ts';
import { BUILD_STATUSES } from '../../../src/core/states.ts';

const BUILDS_PAGE = readFileSync(
  join(import.meta.dirname, '../../../src/http/dashboard/builds-page.js'),
  'utf8',
);

/** The string array a `const NAME = [...]` of the dashboard's builds-page.js holds. */
function arrayOf(name: string): string[] {
  const m = new RegExp(`const ${name} = \\[([^\\]]*)\\]`).exec(BUILDS_PAGE);
  assert.ok(m, `builds-page.js has const ${name}`);
  return [...m[1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!);
}

// The page is plain files served as they are (no build step), so it keeps its own copy of these lists.
describe('the dashboard filters offer what the server has', () => {
  it('every build status, in the order of core/states.ts', () => {
    assert.deepEqual(arrayOf('STATUSES'), [...BUILD_STATUSES]);
  });
  it('every event kind of core/event.ts', () => {
    assert.deepEqual([...arrayOf('EVENTS')].sort(), [...EVENT_KINDS].sort());
  });
});
