import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ActionsCache } from '../../../src/runner/actions-cache.ts';

/** A fetched action's folder of `kb` kilobytes, last used `ageS` seconds ago. */
function folder(root: string, repo: string, n: number, kb: number, ageS: number): string {
  const commit = String(n).repeat(40).slice(0, 40);
  const dir = join(root, 'octo', repo, commit);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.js'), 'x'.repeat(kb * 1000));
  const t = new Date(Date.now() - ageS * 1000);
  utimesSync(dir, t, t);
  return commit;
}
const left = (root: string, repo: string) =>
  readdirSync(join(root, 'octo', repo)).filter((n) => !n.endsWith('.size'));

describe('ActionsCache', () => {
  it('removes the least recently used folders until the total is under the cap', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushci-actions-cache-'));
    folder(root, 'tool', 1, 40, 300);
    folder(root, 'tool', 2, 40, 200);
    const recent = folder(root, 'tool', 3, 40, 100);
    const newest = folder(root, 'tool', 4, 40, 0);
    await new ActionsCache(root, 100_000).trim();
    assert.deepEqual(left(root, 'tool').sort(), [newest, recent].sort());
    assert.ok(!readdirSync(root).some((n) => n.startsWith('.tmp-evict')), 'nothing left half removed');
    // Control: under the cap nothing goes, and 0 means no cap.
    await new ActionsCache(root, 100_000).trim();
    await new ActionsCache(root, 0).trim();
    assert.equal(left(root, 'tool').length, 2);
  });

  it("never removes a folder a running job holds, and a dead process's hold counts for nothing", async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushci-actions-cache-'));
    const cache = new ActionsCache(root, 100_000);
    const heldOld = folder(root, 'tool', 1, 40, 300);
    const deadHeld = folder(root, 'tool', 2, 40, 200);
    const newest = folder(root, 'tool', 3, 40, 0);
    const job = cache.holds();
    await job.take('octo', 'tool', heldOld);
    // A hold left by a worker that crashed: its process is gone.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(join(root, '.held', `octo+tool+${deadHeld}+${dead.stdout}+abc`), '');
    await cache.trim();
    assert.ok(existsSync(join(root, 'octo', 'tool', heldOld)), 'the held folder stays, oldest as it is');
    assert.ok(!existsSync(join(root, 'octo', 'tool', deadHeld)), "the dead process's hold protected nothing");
    assert.deepEqual(readdirSync(join(root, '.held')).length, 1, 'the stale hold is cleared');
    assert.ok(existsSync(join(root, 'octo', 'tool', newest)), 'under the cap again, the newest stays');
    // Once the job releases its hold, the old folder is an ordinary least recently used one.
    await job.release();
    const another = folder(root, 'tool', 4, 40, 0);
    await cache.trim();
    assert.deepEqual(left(root, 'tool').sort(), [newest, another].sort());
  });

  it('counts a folder by the size recorded when it was fetched, or by measuring it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushci-actions-cache-'));
    const a = folder(root, 'tool', 1, 1, 100);
    const b = folder(root, 'tool', 2, 1, 0);
    const cache = new ActionsCache(root, 5_000_000);
    // Recorded as big: the trim believes the record, not a walk (that is what makes it cheap).
    await cache.used(join(root, 'octo', 'tool', a), 4_000_000);
    await cache.used(join(root, 'octo', 'tool', b), 4_000_000);
    await cache.trim();
    assert.deepEqual(left(root, 'tool'), [b], 'the folder used last stays');
  });
});
