import { constants, createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, open, statfs } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';

interface Entry {
  name: string;
  method: number;
  compressed: number;
  size: number;
  offset: number;
  mode: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

class ZipError extends Error {}

/** The central directory: where every member is, how big, how stored (zip64 too). */
async function readEntries(file: string): Promise<Entry[]> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const read = async (pos: number, len: number) => {
      const b = Buffer.alloc(len);
      const { bytesRead } = await fh.read(b, 0, len, pos);
      return b.subarray(0, bytesRead);
    };
    const tailLen = Math.min(size, 22 + 65535);
    const tail = await read(size - tailLen, tailLen);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--)
      if (tail.readUInt32LE(i) === EOCD) {
        at = i;
        break;
      }
    if (at < 0) throw new ZipError('not a zip file (no end of central directory)');
    let count = tail.readUInt16LE(at + 10);
    let cdSize = tail.readUInt32LE(at + 12);
    let cdOffset = tail.readUInt32LE(at + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = at - 20;
      if (loc < 0 || tail.readUInt32LE(loc) !== ZIP64_LOCATOR) throw new ZipError('broken zip64 locator');
      const rec = await read(Number(tail.readBigUInt64LE(loc + 8)), 56);
      if (rec.readUInt32LE(0) !== ZIP64_EOCD) throw new ZipError('broken zip64 end of central directory');
      count = Number(rec.readBigUInt64LE(32));
      cdSize = Number(rec.readBigUInt64LE(40));
      cdOffset = Number(rec.readBigUInt64LE(48));
    }
    const cd = await read(cdOffset, cdSize);
    const entries: Entry[] = [];
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL)
        throw new ZipError('broken central directory');
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const e: Entry = {
        method: cd.readUInt16LE(p + 10),
        compressed: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        mode: cd.readUInt32LE(p + 38) >>> 16,
        offset: cd.readUInt32LE(p + 42),
        name: cd.toString('utf8', p + 46, p + 46 + nameLen),
      };
      // Zip64: the fields that overflowed, in this order, in the extra field 0x0001.
      let x = p + 46 + nameLen;
      const end = x + extraLen;
      while (x + 4 <= end) {
        const id = cd.readUInt16LE(x);
        const len = cd.readUInt16LE(x + 2);
        if (id === 1) {
          let q = x + 4;
          const next = () => {
            const v = Number(cd.readBigUInt64LE(q));
            q += 8;
            return v;
          };
          if (e.size === 0xffffffff) e.size = next();
          if (e.compressed === 0xffffffff) e.compressed = next();
          if (e.offset === 0xffffffff) e.offset = next();
        }
        x += 4 + len;
      }
      entries.push(e);
      p = end + commentLen;
    }
    // Where each member's data starts: after its local header, whose lengths may differ from the central one's.
    for (const e of entries) {
      const h = await read(e.offset, 30);
      if (h.length < 30 || h.readUInt32LE(0) !== LOCAL)
        throw new ZipError(`broken local header of ${e.name}`);
      e.offset += 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** A member's path inside `dir`, or null for one that would land outside it (absolute, `..`). */
function safePath(dir: string, name: string): string | null {
  const parts = name.split('/').filter((s) => s !== '' && s !== '.');
  if (name.startsWith('/') || name.includes('\\') || parts.length === 0 || parts.includes('..')) return null;
  return join(dir, ...parts);
}

/**
 * Unpacks a zip file (stored or deflated members, zip64 included) into `dir`. Members that would land
 * outside `dir` and symlinks are skipped and named in the result, never followed; an executable member
 * stays executable. Each member's size is checked against the directory's.
 */
export async function extractZip(file: string, dir: string): Promise<{ files: number; skipped: string[] }> {
  const entries = await readEntries(file);
  const skipped: string[] = [];
  let files = 0;
  await mkdir(dir, { recursive: true });
  // A zip bomb says what it unpacks to (each member is held to its stated size below): refuse before
  // writing anything when that does not fit on the disk.
  const total = entries.reduce((n, e) => n + e.size, 0);
  const fs = await statfs(dir).catch(() => null);
  if (fs && total > fs.bavail * fs.bsize)
    throw new ZipError(
      `the zip unpacks to ${total} bytes, more than the ${fs.bavail * fs.bsize} free where it would go`,
    );
  for (const e of entries) {
    const to = safePath(dir, e.name);
    const type = e.mode & 0o170000;
    // A symlink already in the folder (from an earlier unpack, or put there) is never followed.
    if (!to || type === 0o120000 || (await symlinkOnTheWay(dir, to))) {
      skipped.push(e.name);
      continue;
    }
    if (e.name.endsWith('/') || type === 0o040000) {
      await mkdir(to, { recursive: true });
      continue;
    }
    if (e.method !== 0 && e.method !== 8)
      throw new ZipError(`${e.name}: compression method ${e.method} is not supported`);
    await mkdir(dirname(to), { recursive: true });
    let written = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        written += chunk.length;
        if (written > e.size) done(new ZipError(`${e.name} is larger than the zip says`));
        else done(null, chunk);
      },
    });
    const out = (
      await open(to, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644)
    ).createWriteStream();
    if (e.compressed === 0) await pipeline(Readable.from([]), out);
    else {
      const raw = createReadStream(file, { start: e.offset, end: e.offset + e.compressed - 1 });
      if (e.method === 8) await pipeline(raw, createInflateRaw(), count, out);
      else await pipeline(raw, count, out);
    }
    if (written !== e.size) throw new ZipError(`${e.name} is shorter than the zip says`);
    if (e.mode & 0o111) await chmod(to, 0o755);
    files++;
  }
  return { files, skipped };
}

/** Whether a path between `dir` (exclusive) and `to` (inclusive) exists as a symlink. */
async function symlinkOnTheWay(dir: string, to: string): Promise<boolean> {
  const rel = relative(dir, to).split(sep);
  let at = dir;
  for (const part of rel) {
    at = join(at, part);
    const st = await lstat(at).catch(() => null);
    if (st === null) return false;
    if (st.isSymbolicLink()) return true;
  }
  return false;
}
