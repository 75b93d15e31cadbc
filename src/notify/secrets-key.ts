import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { readOrCreatePrivateFile, readPrivateFile } from '../data-dir.ts';
import { ConfigError } from '../errors.ts';
import type { Keys } from '../queue/keys.ts';
import { SecretBox, keyIdOf, parseSecretsKey } from './secret-box.ts';

/** The key file in the data dir, when `PUSHCI_SECRETS_KEY` is not set. */
export const SECRETS_KEY_FILE = 'endpoint-secrets.key';

export interface SecretsKeyDeps {
  /** `PUSHCI_SECRETS_KEY`, when the operator gives the key. */
  configured: string | undefined;
  dataDir: string;
  redis: Redis;
  keys: Keys;
}

/**
 * The key endpoint secrets are encrypted with: `PUSHCI_SECRETS_KEY`, else `<data dir>/endpoint-secrets.key`
 * (made, `0600`, by the first process that needs it). Redis remembers the key's id, so a process with
 * another key (a worker on another machine without the variable) says so instead of writing secrets no
 * other process can read. Never logged.
 */
export async function loadSecretsKey(deps: SecretsKeyDeps): Promise<SecretBox> {
  const path = join(deps.dataDir, SECRETS_KEY_FILE);
  let key: Buffer;
  if (deps.configured) {
    try {
      key = parseSecretsKey(deps.configured, 'PUSHCI_SECRETS_KEY');
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  } else {
    const existing = await readPrivateFile(path);
    const used = existing === null ? await encryptedWith(deps) : null;
    if (used !== null)
      throw new ConfigError(
        `endpoint secrets in this Redis are encrypted with key ${used}, and this process has no key: set PUSHCI_SECRETS_KEY (or copy ${SECRETS_KEY_FILE} from the data dir of the pushci that made it)`,
      );
    const text =
      existing ?? (await readOrCreatePrivateFile(path, () => `${randomBytes(32).toString('base64')}\n`)).text;
    try {
      key = parseSecretsKey(text, path);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
  const id = keyIdOf(key);
  const known = await encryptedWith(deps);
  if (known === null) await deps.redis.set(deps.keys.endpointsKeyId, id);
  else if (known !== id)
    throw new ConfigError(
      `endpoint secrets in this Redis are encrypted with key ${known}, but this process has key ${id} (${deps.configured ? 'PUSHCI_SECRETS_KEY' : path}): give every pushci process the same key`,
    );
  return new SecretBox(key);
}

/** The id of the key the stored secrets are encrypted with; null while no endpoint is registered. */
async function encryptedWith(deps: SecretsKeyDeps): Promise<string | null> {
  const [[, known], [, count]] = (await deps.redis
    .multi()
    .get(deps.keys.endpointsKeyId)
    .zcard(deps.keys.endpoints)
    .exec()) as [[unknown, string | null], [unknown, number]];
  return count > 0 ? known : null;
}
