import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { captureLog } from '../../helpers/capture-log.ts';
import { prepareWorkspacesRoot } from '../../../src/runner/prepare-workspaces-root.ts';

const EXT4_MAGIC = 0xef53;

/** The flags `lsattr -d` prints for `dir` (its first word). */
const flags = (dir: string) => execFileSync('lsattr', ['-d', dir], { encoding: 'utf8' }).split(/\s+/)[0]!;

describe('prepareWorkspacesRoot', () => {
  it('makes the workspaces folder private and marks it TOPDIR on ext4, so job folders spread over block groups', (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pushci-wsroot-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    if (statfsSync(dataDir).type !== EXT4_MAGIC) {
      t.skip(`${tmpdir()} is not ext4 here: the flag is ext4's`);
      return;
    }
    const { log } = captureLog();
    return prepareWorkspacesRoot(dataDir, log).then((root) => {
      assert.equal(root, join(dataDir, 'workspaces'));
      assert.equal(statSync(root).mode & 0o777, 0o700);
      assert.match(flags(root), /T/, 'the TOPDIR flag is set');
      // A second start finds it made and flagged, and changes nothing else.
      mkdirSync(join(root, 'a-job-1'));
      return prepareWorkspacesRoot(dataDir, log).then(() => {
        assert.ok(existsSync(join(root, 'a-job-1')));
        assert.match(flags(root), /T/);
      });
    });
  });

  it('on a file system without the flag (tmpfs), still makes the folder and says why at debug only', async (t) => {
    const dataDir = mkdtempSync(join('/dev/shm', 'pushci-wsroot-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const { log, lines } = captureLog();
    const root = await prepareWorkspacesRoot(dataDir, log);
    assert.equal(statSync(root).mode & 0o777, 0o700);
    const said = lines.filter((l) => /TOPDIR/.test(String(l.msg)));
    assert.equal(said.length, 1, 'one line says the flag was not taken');
    assert.equal(said[0]!.level, 20, 'at debug');
    assert.equal(said[0]!.dir, root);
  });
});
