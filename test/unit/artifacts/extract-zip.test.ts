import assert from 'node:assert/strict';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { extractZip } from '../../../src/artifacts/extract-zip.ts';

// The zip writer @actions/artifact (so upload-artifact@v4) uses, installed with it.
interface Archive {
  pipe(out: NodeJS.WritableStream): void;
  append(data: string | Buffer, o: { name: string; mode?: number }): void;
  symlink(name: string, target: string): void;
  finalize(): Promise<void>;
}
const archiver = createRequire(import.meta.url)('archiver') as (
  format: 'zip',
  o: { zlib?: { level: number }; forceZip64?: boolean },
) => Archive;

const dir = mkdtempSync(join(tmpdir(), 'pushci-test-zip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function made(name: string, o: { forceZip64?: boolean; level?: number }, fill: (a: Archive) => void) {
  const file = join(dir, name);
  const a = archiver('zip', { zlib: { level: o.level ?? 6 }, ...(o.forceZip64 ? { forceZip64: true } : {}) });
  const out = createWriteStream(file);
  const closed = new Promise<void>((r) => out.on('close', () => r()));
  a.pipe(out);
  fill(a);
  await a.finalize();
  await closed;
  return file;
}

/**
 * A zip with one stored member of any name (archiver cleans names; an attacker's tool does not);
 * `zip64Size`: the size its zip64 extra field claims instead of the real one, as a bomb's would.
 */
function rawZip(file: string, name: string, data: string, o: { zip64Size?: bigint } = {}): string {
  const n = Buffer.from(name);
  const d = Buffer.from(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt32LE(d.length, 18);
  local.writeUInt32LE(d.length, 22);
  local.writeUInt16LE(n.length, 26);
  const extra = Buffer.alloc(o.zip64Size === undefined ? 0 : 12);
  if (o.zip64Size !== undefined) {
    extra.writeUInt16LE(1, 0);
    extra.writeUInt16LE(8, 2);
    extra.writeBigUInt64LE(o.zip64Size, 4);
  }
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt32LE(d.length, 20);
  central.writeUInt32LE(o.zip64Size === undefined ? d.length : 0xffffffff, 24);
  central.writeUInt16LE(n.length, 28);
  central.writeUInt16LE(extra.length, 30);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + n.length + extra.length, 12);
  end.writeUInt32LE(30 + n.length + d.length, 16);
  writeFileSync(join(dir, file), Buffer.concat([local, n, d, central, n, extra, end]));
  return join(dir, file);
}

describe('extractZip (zips made by the same library as upload-artifact@v4)', () => {
  it('unpacks deflated and stored members, folders, empty files, and keeps executables executable', async () => {
    const big = 'x'.repeat(200_000);
    for (const [label, o] of [
      ['deflated', {}],
      ['stored', { level: 0 }],
      ['zip64', { forceZip64: true }],
    ] as const) {
      const zip = await made(`${label}.zip`, o, (a) => {
        a.append('hello\n', { name: 'out/a.txt' });
        a.append(big, { name: 'out/sub/big.txt' });
        a.append('', { name: 'empty.txt' });
        a.append('#!/bin/sh\necho hi\n', { name: 'run.sh', mode: 0o755 });
      });
      const to = join(dir, `x-${label}`);
      assert.deepEqual(await extractZip(zip, to), { files: 4, skipped: [] }, label);
      assert.equal(readFileSync(join(to, 'out/a.txt'), 'utf8'), 'hello\n');
      assert.equal(readFileSync(join(to, 'out/sub/big.txt'), 'utf8'), big);
      assert.equal(readFileSync(join(to, 'empty.txt'), 'utf8'), '');
      assert.equal(statSync(join(to, 'run.sh')).mode & 0o111, 0o111, label);
      assert.equal(statSync(join(to, 'out/a.txt')).mode & 0o111, 0, label);
    }
  });

  it('skips members that would land outside the folder, and symlinks, without following them', async () => {
    const to = join(dir, 'x-evil');
    for (const name of ['../evil.txt', '/tmp/evil.txt', 'a/../../evil.txt', 'a\\..\\evil.txt']) {
      const zip = rawZip('evil.zip', name, 'gotcha');
      assert.deepEqual(await extractZip(zip, to), { files: 0, skipped: [name] }, name);
    }
    assert.ok(!existsSync(join(dir, 'evil.txt')));
    const linked = await made('link.zip', {}, (a) => {
      a.symlink('link', '/etc/passwd');
      a.append('ok', { name: 'fine.txt' });
    });
    assert.deepEqual(await extractZip(linked, join(dir, 'x-link')), { files: 1, skipped: ['link'] });
    assert.ok(!existsSync(join(dir, 'x-link', 'link')));
    // Not a zip at all: said, nothing written.
    writeFileSync(join(dir, 'not.zip'), 'plain text');
    await assert.rejects(extractZip(join(dir, 'not.zip'), join(dir, 'x-not')), /not a zip file/);
  });

  it('never follows a symlink already in the folder, for a file or a folder on the way', async () => {
    const to = join(dir, 'x-planted');
    const target = mkdtempSync(join(tmpdir(), 'pushci-test-zip-target-'));
    mkdirSync(to, { recursive: true });
    symlinkSync(join(target, 'victim.txt'), join(to, 'file.txt'));
    symlinkSync(target, join(to, 'sub'));
    const zip = await made('planted.zip', {}, (a) => {
      a.append('over', { name: 'file.txt' });
      a.append('into', { name: 'sub/inner.txt' });
      a.append('ok', { name: 'fine.txt' });
    });
    assert.deepEqual(await extractZip(zip, to), { files: 1, skipped: ['file.txt', 'sub/inner.txt'] });
    assert.deepEqual(readdirSync(target), [], 'nothing was written through the symlinks');
    assert.equal(readFileSync(join(to, 'fine.txt'), 'utf8'), 'ok');
  });

  it('refuses, before writing anything, a zip that says it unpacks to more than the disk has free', async () => {
    // One stored member of 4 bytes whose zip64 size field says 2^60 bytes, as a bomb's would.
    const zip = rawZip('bomb.zip', 'big.bin', 'tiny', { zip64Size: 2n ** 60n });
    const to = join(dir, 'x-bomb');
    await assert.rejects(extractZip(zip, to), /unpacks to \d+ bytes, more than the \d+ free/);
    assert.deepEqual(readdirSync(to), [], 'nothing was written');
  });
});
