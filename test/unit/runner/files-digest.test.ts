import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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
import { FilesDigest, MAX_HASH_BYTES } from '../../../src/runner/files-digest.ts';

const sha = (b: string) => createHash('sha256').update(b).digest();

describe('FilesDigest: the one reader of hashFiles(), synchronous and asynchronous alike', () => {
  const root = mkdtempSync(join(tmpdir(), 'pushci-files-digest-'));
  mkdirSync(join(root, 'a'));
  writeFileSync(join(root, 'a/one.lock'), 'one\n');
  writeFileSync(join(root, 'two.lock'), 'two\n');
  symlinkSync('/etc/hostname', join(root, 'link.lock'));
  execFileSync('mkfifo', [join(root, 'fifo.lock')]);
  const big = openSync(join(root, 'big.lock'), 'w');
  ftruncateSync(big, MAX_HASH_BYTES + 1);
  closeSync(big);

  /** What each way of reading makes of the same files: the digest, or the refusal's message. */
  const both = async (rels: string[]) => {
    const sync = new FilesDigest(root, root);
    const async = new FilesDigest(root, root);
    const outcome = async (run: () => Promise<void> | void, d: FilesDigest) => {
      try {
        await run();
        return d.digest();
      } catch (err) {
        return `refused: ${(err as Error).message}`;
      }
    };
    return [
      await outcome(() => rels.forEach((r) => sync.addSync(r)), sync),
      await outcome(async () => {
        for (const r of rels) await async.add(r);
      }, async),
    ];
  };

  it("hashes regular files as GitHub does, in the order given, '' for none (control)", async () => {
    const want = createHash('sha256').update(sha('one\n')).update(sha('two\n')).digest('hex');
    assert.deepEqual(await both(['a/one.lock', 'two.lock']), [want, want]);
    assert.deepEqual(await both([]), ['', '']);
  });

  it('refuses, in both, a symlink, a FIFO, and more bytes than its cap, saying which file', async () => {
    for (const [rel, message] of [
      ['link.lock', /^refused: link\.lock cannot be read \(ELOOP\)$/],
      ['fifo.lock', /^refused: fifo\.lock was moved or replaced while it was read/],
      ['big.lock', /^refused: the matching files hold more than 512 MiB \(reached at big\.lock\)/],
    ] as const) {
      const [sync, async] = await both(['two.lock', rel]);
      assert.match(sync!, message, rel);
      assert.equal(async, sync, `${rel}: the same refusal both ways`);
    }
  });

  it('refuses a file whose descriptor is not where it was meant to be (a folder on the way swapped)', async () => {
    // The kernel names the opened file under `root`; a digest told the checkout is elsewhere sees a mismatch.
    const elsewhere = new FilesDigest(root, join(root, 'a'));
    assert.throws(() => elsewhere.addSync('two.lock'), /two\.lock was moved or replaced while it was read/);
    await assert.rejects(elsewhere.add('two.lock'), /two\.lock was moved or replaced while it was read/);
  });
});
