import { randomBytes } from 'node:crypto';

/**
 * Build ids: time-ordered (they sort by creation) and made only of [0-9a-z], so they are safe in file
 * paths, URLs and Redis keys whatever a payload contains.
 */
export function newBuildId(now = Date.now()): string {
  const time = now.toString(36).padStart(9, '0');
  const rand = BigInt(`0x${randomBytes(6).toString('hex')}`)
    .toString(36)
    .padStart(10, '0');
  return `${time}${rand}`;
}

export const BUILD_ID = /^[0-9a-z]{19}$/;
