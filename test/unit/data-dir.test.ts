import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ensurePrivateDir,
  readOrCreatePrivateFile,
  readPrivateFile,
  writePrivateFile,
} from '../../src/data-dir.ts';

const mode = (p: string) => statSync(p).mode & 0o777;

describe('data-dir private files', () => {
  it('creates directories 0700 and narrows an existing 0755 one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushci-dd-'));
    const fresh = join(root, 'a', 'b');
    await ensurePrivateDir(fresh);
    assert.equal(mode(fresh), 0o700);
    const old = join(root, 'old');
    mkdirSync(old);
    chmodSync(old, 0o755);
    await ensurePrivateDir(old);
    assert.equal(mode(old), 0o700);
  });

  it('writes files 0600 atomically, replacing a previous one and leaving no temp file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushci-dd-'));
    const file = join(root, 'data', 'token');
    await writePrivateFile(file, 'one');
    await writePrivateFile(file, 'two');
    assert.equal(await readPrivateFile(file), 'two');
    assert.equal(mode(file), 0o600);
    assert.equal(mode(join(root, 'data')), 0o700);
    assert.deepEqual(readdirSync(join(root, 'data')), ['token']);
    assert.equal(await readPrivateFile(join(root, 'missing')), null);
  });

  it('read-or-create: many racing creators agree on one value', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushci-dd-'));
    const file = join(root, 'secret');
    let n = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => readOrCreatePrivateFile(file, () => `value-${n++}`)),
    );
    const texts = new Set(results.map((r) => r.text));
    assert.equal(texts.size, 1);
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(await readPrivateFile(file), [...texts][0]);
    assert.equal(mode(file), 0o600);
    assert.deepEqual(readdirSync(root), ['secret']);
  });

  it('read-or-create keeps an existing file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushci-dd-'));
    const file = join(root, 'secret');
    writeFileSync(file, 'kept', { mode: 0o600 });
    assert.deepEqual(await readOrCreatePrivateFile(file, () => 'new'), { text: 'kept', created: false });
  });
});
