import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExpressionError } from '../../../src/pipelines/expr/expression-error.ts';
import { MAX_HASH_BYTES } from '../../../src/runner/files-digest.ts';
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

describe('hashFiles() against what a process of the job can make of the checkout', () => {
  const root = mkdtempSync(join(tmpdir(), 'pushci-hash-files-attack-'));

  it('refuses to read more than its cap of bytes: a sparse file costs a step nothing to make', () => {
    const dir = join(root, 'sparse');
    mkdirSync(dir);
    writeFileSync(join(dir, 'small.lock'), 'ok\n');
    // Control: an ordinary lock file hashes.
    assert.notEqual(hashFiles(dir, ['*.lock']), '');
    const big = openSync(join(dir, 'big.lock'), 'w');
    ftruncateSync(big, MAX_HASH_BYTES + 1);
    closeSync(big);
    assert.throws(
      () => hashFiles(dir, ['*.lock']),
      (e: Error) =>
        e instanceof ExpressionError && /hold more than 512 MiB \(reached at big\.lock\)/.test(e.message),
    );
  });

  it('never waits on a FIFO swapped in for a matched file between the walk and the read', () => {
    const dir = join(root, 'fifo');
    mkdirSync(dir);
    for (let i = 0; i < 50; i++) writeFileSync(join(dir, `f${i}.lock`), `${i}\n`);
    // A process of the job swapping one lock file for a FIFO and back, as fast as it can.
    const toggler = spawn(
      'bash',
      ['-c', 'while :; do rm -f a.lock; echo hi > a.lock; rm -f a.lock; mkfifo a.lock; done'],
      {
        cwd: dir,
        stdio: 'ignore',
      },
    );
    try {
      // In a child process: a hashFiles() stuck on a FIFO would hold this one's event loop forever.
      const script = `import { hashFiles } from ${JSON.stringify(join(import.meta.dirname, '../../../src/runner/hash-files.ts'))};
        let refused = 0, hashed = 0;
        const until = Date.now() + 4000;
        while (Date.now() < until) { try { hashFiles(${JSON.stringify(dir)}, ['*.lock']); hashed++; } catch { refused++; } }
        console.log(JSON.stringify({ hashed, refused }));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        timeout: 60_000,
        encoding: 'utf8',
      });
      assert.equal(r.signal, null, 'hashFiles() hung on the FIFO (killed after 60 s)');
      assert.equal(r.status, 0, r.stderr);
      const { hashed } = JSON.parse(r.stdout) as { hashed: number; refused: number };
      // Control: with the file a regular one at times, hashing goes on.
      assert.ok(hashed > 0, r.stdout);
    } finally {
      toggler.kill('SIGKILL');
    }
  });
});
