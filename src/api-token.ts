import { randomBytes } from 'node:crypto';
import { constants, openSync, readFileSync, closeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, readOrCreatePrivateFile } from './data-dir.ts';
import { ConfigError } from './errors.ts';

/** Where `pushci serve` keeps the API token it generated, and where the CLI looks for it. */
export function apiTokenFile(dataDir: string): string {
  return join(dataDir, 'api-token');
}

/**
 * The token in the data dir, or undefined when there is none. Refuses a file others may read: a token
 * that leaked to other local users is not a credential any more.
 */
export function readApiToken(dataDir: string): string | undefined {
  const file = apiTokenFile(dataDir);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigError(`${file} is not a regular file`);
    if ((st.mode & 0o077) !== 0)
      throw new ConfigError(
        `${file} may be read by other users (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it, or delete it for a new token`,
      );
    const token = readFileSync(fd, 'utf8').trim();
    return token === '' ? undefined : token;
  } finally {
    closeSync(fd);
  }
}

/**
 * The API token of a server started without `PUSHCI_API_TOKEN`: the one in the data dir, or a new one
 * written there (mode 0600, data dir 0700) on first start. `created` says which.
 */
export async function ensureApiToken(
  dataDir: string,
): Promise<{ token: string; created: boolean; file: string }> {
  const file = apiTokenFile(dataDir);
  // The data dir also holds Redis' data and the git mirrors: nobody else on the machine needs it.
  await ensurePrivateDir(dataDir);
  const existing = readApiToken(dataDir);
  if (existing) return { token: existing, created: false, file };
  const { text, created } = await readOrCreatePrivateFile(
    file,
    () => `${randomBytes(32).toString('base64url')}\n`,
  );
  const token = text.trim();
  if (!token) throw new ConfigError(`${file} is empty: delete it, and pushci makes a new token`);
  return { token, created, file };
}
