import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Files pushci keeps for itself in the data dir (the embedded Redis password, the generated API token,
 * the embedded Redis's address): directories `0700`, files `0600`, written atomically so a reader never
 * sees half a file and a crash never leaves one.
 */

/** Creates `dir` (and parents) as `0700`, and narrows an existing one to `0700` (an older pushci made it 0755). */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const s = await stat(dir);
  if ((s.mode & 0o777) !== 0o700) await chmod(dir, 0o700);
}

/** A temporary sibling of `path`, created `0600` with `text` in it and fsynced. */
async function writeTemp(path: string, text: string): Promise<string> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}

/** Writes `text` to `path` as a `0600` file, atomically (temp file, fsync, rename); its folder is made `0700`. */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  await ensurePrivateDir(dirname(path));
  const tmp = await writeTemp(path, text);
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** The text of `path`, or null when it does not exist. */
export async function readPrivateFile(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * The text of `path`; when it does not exist yet, `make()` is written there first. Safe when several
 * processes start at once: the file is published with link(2), which fails if another process got there
 * first, and then everyone reads the winner's text. Returns whether this call created it.
 */
export async function readOrCreatePrivateFile(
  path: string,
  make: () => string,
): Promise<{ text: string; created: boolean }> {
  const existing = await readPrivateFile(path);
  if (existing !== null) return { text: existing, created: false };
  await ensurePrivateDir(dirname(path));
  const text = make();
  const tmp = await writeTemp(path, text);
  try {
    await link(tmp, path);
    return { text, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { text: (await readPrivateFile(path)) ?? text, created: false };
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
