import { createHash } from 'node:crypto';

/**
 * Exactly-once intake: the Redis key that remembers a delivery id for the window. The check and the
 * record happen inside the script that stores the builds (BuildStore.create), so a second receipt of
 * a delivery, here or at another instance at the same moment, can never create a build.
 */
export function seenKey(prefix: string, forge: string, deliveryId: string): string {
  return `${prefix}:seen:${forge}:${createHash('sha256').update(deliveryId).digest('hex').slice(0, 32)}`;
}
