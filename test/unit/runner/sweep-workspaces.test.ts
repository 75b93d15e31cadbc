import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { keys } from '../../../src/queue/keys.ts';
import { BuildStore } from '../../../src/queue/store.ts';
import { asyncFileWork } from '../../../src/runner/files/file-work.ts';
import { sweepWorkspaces } from '../../../src/runner/sweep-workspaces.ts';
import { newBuild, webPipeline } from '../../helpers/builds.ts';
import { suiteRedis } from '../../helpers/suite-redis.ts';

describe('sweepWorkspaces removes the workspaces of attempts that no longer run', () => {
  const db = suiteRedis();
  let store: BuildStore;
  before(() => {
    store = new BuildStore(db.client, keys(db.redis.prefix));
  });

  /** A stored build of one job, `build`, started as attempt 1 (and 2 when asked). */
  const started = async (attempts: number) => {
    const b = newBuild(webPipeline('echo hi'));
    assert.ok((await store.create([b])).created);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const at = new Date().toISOString();
      const state = { attempt, exit_code: null, reason: null, started_at: at, finished_at: null };
      assert.ok((await store.startJob(b.meta.id, 'build', ['queued', 'running'], state, at)).ok);
    }
    return b.meta.id;
  };
  /** A data dir with these workspaces, each holding a file. */
  const dataDir = (names: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-sweep-'));
    for (const name of names) {
      mkdirSync(join(dir, 'workspaces', name, 'src'), { recursive: true });
      writeFileSync(join(dir, 'workspaces', name, 'src', 'f'), 'x');
    }
    return dir;
  };
  const sweep = (dir: string, running: Array<{ build_id: string; job: string }> = []) =>
    sweepWorkspaces({
      dataDir: dir,
      record: (id) => store.get(id),
      running: async () => running,
      files: asyncFileWork,
    });

  it("keeps the running attempt's workspace and removes the superseded, ended and forgotten ones", async () => {
    const retried = await started(2);
    const ended = await started(1);
    const details = { attempt: 1, exit_code: 0, reason: null, started_at: 'x', finished_at: 'y' };
    assert.ok((await store.moveJob(ended, 'build', ['running'], 'success', details)).ok);
    const dir = dataDir([
      `${retried}-build-1`,
      `${retried}-build-2`,
      `${ended}-build-1`,
      'zzzzforgotten-build-1',
      'not-a-workspace',
    ]);
    const removed = await sweep(dir);
    assert.deepEqual(
      removed.sort(),
      [`${ended}-build-1`, `${retried}-build-1`, 'zzzzforgotten-build-1'].sort(),
    );
    assert.deepEqual(
      readdirSync(join(dir, 'workspaces')).sort(),
      ['not-a-workspace', `${retried}-build-2`].sort(),
    );
    assert.deepEqual(await sweep(dir), [], 'nothing left to remove');
  });

  it('keeps the workspaces of a job a live worker says it runs, whatever Redis says', async () => {
    const ended = await started(1);
    const details = { attempt: 1, exit_code: null, reason: 'skipped', started_at: 'x', finished_at: 'y' };
    assert.ok((await store.moveJob(ended, 'build', ['running'], 'skipped', details)).ok);
    const dir = dataDir([`${ended}-build-1`]);
    assert.deepEqual(await sweep(dir, [{ build_id: ended, job: 'build' }]), []);
    assert.ok(existsSync(join(dir, 'workspaces', `${ended}-build-1`, 'src', 'f')));
    assert.deepEqual(await sweep(dir), [`${ended}-build-1`], 'removed once no worker runs it');
  });

  it('does nothing in a data dir without workspaces', async () => {
    assert.deepEqual(await sweep(mkdtempSync(join(tmpdir(), 'pushci-sweep-'))), []);
  });
});
