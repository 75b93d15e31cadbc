import { randomUUID } from 'node:crypto';

/**
 * Build ids: time-ordered (they sort by creation) and made only of [0-9a-z], so they are safe in file
 * paths, URLs and Redis keys whatever a payload contains. The random part comes from randomUUID, which
 * draws from a pooled buffer (randomBytes per id showed up in the intake profile).
 */
export function newBuildId(now = Date.now()): string {
  const time = now.toString(36).padStart(9, '0');
  const rand = BigInt(`0x${randomUUID().replaceAll('-', '').slice(0, 12)}`)
    .toString(36)
    .padStart(10, '0');
  return `${time}${rand}`;
}
