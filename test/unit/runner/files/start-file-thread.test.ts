import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { asyncFileWork, type FileWork } from '../../../../src/runner/files/file-work.ts';
import { startFileThread } from '../../../../src/runner/files/start-file-thread.ts';
import { unlockFolders } from '../../../../src/runner/files/apply-file-ops.ts';

const thread = startFileThread();
after(() => thread.close());

// The worker's thread and the event-loop fallback must do the same thing.
for (const [name, files] of [
  ['the file thread', thread],
  ['node:fs/promises', asyncFileWork],
] as Array<[string, FileWork]>) {
  describe(`a job's file work through ${name}`, () => {
    it('makes folders and files with their modes, in order', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pushci-files-'));
      await files.apply([
        { op: 'mkdir', path: join(dir, 'job', 'tmp', '_step'), mode: 0o700 },
        { op: 'write', path: join(dir, 'job', 'tmp', '_step', 'output'), data: '', mode: 0o600 },
        { op: 'write', path: join(dir, 'job', 'HEAD'), data: 'abc\n' },
      ]);
      assert.equal(statSync(join(dir, 'job', 'tmp', '_step')).mode & 0o777, 0o700);
      assert.equal(statSync(join(dir, 'job', 'tmp', '_step', 'output')).mode & 0o777, 0o600);
      assert.equal(readFileSync(join(dir, 'job', 'HEAD'), 'utf8'), 'abc\n');
    });

    it('an exclusive write refuses what is there already, a symlink most of all; rename moves a symlink, not its target', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pushci-files-'));
      writeFileSync(join(dir, 'target'), 'keep\n');
      symlinkSync(join(dir, 'target'), join(dir, 'planted'));
      await assert.rejects(
        files.apply([{ op: 'write', path: join(dir, 'planted'), data: '', mode: 0o600, exclusive: true }]),
        (e: NodeJS.ErrnoException) => e.code === 'EEXIST',
      );
      assert.equal(readFileSync(join(dir, 'target'), 'utf8'), 'keep\n', 'the target was not truncated');
      // The control: a new name is made, empty, with its mode.
      await files.apply([{ op: 'write', path: join(dir, 'new'), data: '', mode: 0o600, exclusive: true }]);
      assert.equal(statSync(join(dir, 'new')).mode & 0o777, 0o600);
      await files.apply([{ op: 'rename', from: join(dir, 'planted'), to: join(dir, 'moved') }]);
      assert.equal(existsSync(join(dir, 'planted')), false);
      assert.equal(readFileSync(join(dir, 'moved'), 'utf8'), 'keep\n');
      assert.equal(existsSync(join(dir, 'target')), true, 'the symlink moved, not its target');
    });

    it('removes a tree, a read-only folder in it too, without following a symlink out of it', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pushci-files-'));
      const outside = join(dir, 'outside');
      mkdirSync(outside);
      writeFileSync(join(outside, 'keep'), 'kept');
      const job = join(dir, 'job');
      mkdirSync(join(job, 'src', 'deep', 'er'), { recursive: true });
      writeFileSync(join(job, 'src', 'deep', 'er', 'f'), 'x');
      symlinkSync(outside, join(job, 'src', 'link'));
      chmodSync(join(job, 'src', 'deep'), 0o500);
      await files.apply([{ op: 'rm', path: job }]);
      assert.equal(existsSync(job), false);
      assert.equal(readFileSync(join(outside, 'keep'), 'utf8'), 'kept');
      // Gone already is not an error (a job whose folder was never made).
      await files.apply([{ op: 'rm', path: job }]);
    });

    it('stops at the first failure and says which file, with its code', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pushci-files-'));
      await assert.rejects(
        files.apply([
          { op: 'write', path: join(dir, 'missing', 'f'), data: '' },
          { op: 'mkdir', path: join(dir, 'after') },
        ]),
        (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.message.includes(join(dir, 'missing', 'f')),
      );
      assert.equal(existsSync(join(dir, 'after')), false);
    });
  });
}

describe("the file thread with one job's large removal on its way", () => {
  it("does another job's small batch first instead of holding it behind the removal", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-files-'));
    const big = join(dir, 'big');
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(big, `d${d}`), { recursive: true });
      for (let f = 0; f < 1000; f++) writeFileSync(join(big, `d${d}`, `f${f}`), '');
    }
    const order: string[] = [];
    const removal = thread.apply([{ op: 'rm', path: big }]).then(() => order.push('removal'));
    const small = thread
      .apply([{ op: 'write', path: join(dir, 'script'), data: 'true\n' }])
      .then(() => order.push('small'));
    await Promise.all([removal, small]);
    assert.deepEqual(order, ['small', 'removal']);
    assert.equal(existsSync(big), false);
    assert.equal(readFileSync(join(dir, 'script'), 'utf8'), 'true\n');
  });
});

describe('unlocking the folders of a tree before its removal (a worker that is not root)', () => {
  it('gives its folders rwx for their owner without their special bits, and never follows a symlink out of it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-files-'));
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    chmodSync(outside, 0o500);
    const job = join(dir, 'job');
    mkdirSync(join(job, 'a', 'b'), { recursive: true });
    symlinkSync(outside, join(job, 'a', 'link'));
    symlinkSync(outside, join(job, 'top-link'));
    chmodSync(join(job, 'a', 'b'), 0o6000);
    chmodSync(join(job, 'a'), 0o2500);
    unlockFolders(job);
    assert.equal(statSync(join(job, 'a')).mode & 0o7777, 0o700);
    assert.equal(statSync(join(job, 'a', 'b')).mode & 0o7777, 0o700);
    assert.equal(statSync(outside).mode & 0o7777, 0o500, 'the symlinks’ target is untouched');
    // A symlink given as the tree itself is not followed either.
    unlockFolders(join(job, 'top-link'));
    assert.equal(statSync(outside).mode & 0o7777, 0o500);
    chmodSync(outside, 0o700);
  });
});
