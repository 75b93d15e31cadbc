import { randomBytes } from 'node:crypto';
import { InvalidRequestError } from '../errors.ts';
import { checkSecret } from './sign.ts';

export type EndpointState = 'active' | 'paused' | 'disabled';

/** An endpoint registered through the API, as stored (its secrets stay in Redis, encrypted). */
export interface StoredEndpoint {
  id: string;
  url: string;
  description: string;
  events: string[];
  pipelines: string[];
  branches: string[];
  onPause: 'keep' | 'drop';
  state: EndpointState;
  stateReason: string | null;
  /** ms since the epoch. */
  stateAt: number | null;
  /** While set and in the future, messages are signed with the previous secret too. */
  previousUntil: number | null;
  createdAt: number;
  updatedAt: number;
  /** Start of the current run of failed attempts. */
  failingSince: number | null;
}

/** A fresh `whsec_` secret: 32 random bytes, as Standard Webhooks suggests (24 to 64). */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function checkOwnSecret(secret: string): void {
  try {
    checkSecret(secret);
  } catch {
    throw new InvalidRequestError('secret: must be a whsec_ secret (whsec_ and base64)');
  }
  const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64').length;
  if (bytes < 24 || bytes > 64)
    throw new InvalidRequestError(`secret: must hold 24 to 64 random bytes, this one holds ${bytes}`);
}

/** An endpoint's Redis hash as a StoredEndpoint, or null when there is none. */
export function parseStoredEndpoint(h: Record<string, string>): StoredEndpoint | null {
  if (!h.id) return null;
  const num = (v: string | undefined) => (v ? Number(v) : null);
  return {
    id: h.id,
    url: h.url ?? '',
    description: h.description ?? '',
    events: JSON.parse(h.events ?? '[]') as string[],
    pipelines: JSON.parse(h.pipelines ?? '[]') as string[],
    branches: JSON.parse(h.branches ?? '[]') as string[],
    onPause: h.on_pause === 'drop' ? 'drop' : 'keep',
    state: (h.state ?? 'active') as EndpointState,
    stateReason: h.state_reason || null,
    stateAt: num(h.state_at),
    previousUntil: num(h.prev_until),
    createdAt: Number(h.created_at),
    updatedAt: Number(h.updated_at),
    failingSince: num(h.failing_since),
  };
}
