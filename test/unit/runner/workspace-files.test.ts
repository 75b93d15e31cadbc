import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { hashFiles, selectFiles } from '../../../src/runner/workspace-files.ts';

describe('workspace files: artifact patterns and hashFiles', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'pushci-test-ws-'));
    const files: Record<string, string> = {
      'dist/a.js': 'a',
      'dist/a.js.map': 'map',
      'dist/sub/b.js': 'b',
      'src/x.ts': 'x',
      'package-lock.json': 'lock',
      '.git/config': 'never',
    };
    for (const [f, c] of Object.entries(files)) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      writeFileSync(join(root, f), c);
    }
    // A committed symlink out of the checkout.
    symlinkSync('/etc', join(root, 'evil'));
  });

  it('selects with GitHub globs: ! excludes, a folder selects what is in it, .git never', async () => {
    assert.deepEqual(await selectFiles(root, ['dist/**', '!dist/**/*.map']), ['dist/a.js', 'dist/sub/b.js']);
    assert.deepEqual(await selectFiles(root, ['dist']), ['dist/a.js', 'dist/a.js.map', 'dist/sub/b.js']);
    assert.deepEqual(await selectFiles(root, ['**/*.js']), ['dist/a.js', 'dist/sub/b.js']);
    assert.deepEqual(await selectFiles(root, ['.git/**', '**/config']), []);
  });

  it('never follows a symlink out of the checkout; the symlink itself may be selected', async () => {
    assert.deepEqual(await selectFiles(root, ['evil/**']), []);
    assert.deepEqual(await selectFiles(root, ['evil/hostname']), []);
    assert.deepEqual(await selectFiles(root, ['evil']), ['evil']);
    assert.equal(await hashFiles(root, ['evil/hostname']), '');
  });

  it('hashFiles is SHA-256 over each file’s SHA-256 in path order, empty when nothing matches', async () => {
    const one = (s: string) => createHash('sha256').update(s).digest();
    const want = createHash('sha256').update(one('a')).update(one('b')).digest('hex');
    assert.equal(await hashFiles(root, ['dist/**/*.js']), want);
    assert.equal(
      await hashFiles(root, ['package-lock.json']),
      createHash('sha256').update(one('lock')).digest('hex'),
    );
    assert.equal(await hashFiles(root, ['nothing/**']), '');
  });
});
