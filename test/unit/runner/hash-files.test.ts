import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExpressionError } from '../../../src/pipelines/expr/expression-error.ts';
import { hashFiles } from '../../../src/runner/hash-files.ts';

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest();

describe('hashFiles() of a step (synchronous, on the worker)', () => {
  const root = mkdtempSync(join(tmpdir(), 'pushci-hash-files-'));
  mkdirSync(join(root, 'a/b'), { recursive: true });
  mkdirSync(join(root, '.git'));
  writeFileSync(join(root, 'a/x.lock'), 'one\n');
  writeFileSync(join(root, 'a/b/x.lock'), 'two\n');
  writeFileSync(join(root, '.git/x.lock'), 'never\n');
  // Committed symlinks out of the checkout: a file and a folder.
  symlinkSync('/etc/hostname', join(root, 'z.lock'));
  symlinkSync('/etc', join(root, 'etc'));
  for (let i = 0; i < 60; i++) writeFileSync(join(root, `f${i}`), '');

  it('hashes the matching regular files in path order, never through a symlink or into .git', () => {
    const want = createHash('sha256').update(sha('two\n')).update(sha('one\n')).digest('hex');
    assert.equal(hashFiles(root, ['**/x.lock', '**/*.lock', 'etc/**']), want);
    assert.equal(hashFiles(root, ['**/none']), '');
  });

  it('refuses to look through more than its cap of files and folders, and says so', () => {
    assert.throws(
      () => hashFiles(root, ['**/x.lock'], 50),
      (e: Error) =>
        e instanceof ExpressionError && /more than 50 files and folders to look through/.test(e.message),
    );
    // Control: the same checkout under a cap it fits in.
    assert.notEqual(hashFiles(root, ['**/x.lock'], 100), '');
  });
});
