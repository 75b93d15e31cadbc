import type { ForgeName } from '../model.ts';
import { forgeNamed } from './registry.ts';

/**
 * The ref a forge keeps a pull request's head under (`refs/pull/N/head`, `refs/merge-requests/N/head`),
 * made from its number, never taken from a payload; null for a number that is not a positive integer
 * or a forge that serves no such ref (Bitbucket Cloud: see `pullRequestSource`).
 */
export function pullRequestRef(forge: ForgeName, number: number): string | null {
  if (!Number.isSafeInteger(number) || number < 1) return null;
  return forgeNamed(forge).pullRequestRef(number);
}
