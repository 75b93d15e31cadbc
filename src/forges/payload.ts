import { isUtf8 } from 'node:buffer';
import { COMMIT_SHA } from '../core/names.ts';
import { MalformedPayloadError } from '../errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes bytes that must be UTF-8, or returns null. A leading byte order mark is dropped, as `JSON.parse`
 * needs; the rest encodes back to the same bytes.
 */
export function decodeUtf8(body: Buffer): string | null {
  try {
    return utf8.decode(body);
  } catch {
    return null;
  }
}

/**
 * Whether `decodeUtf8` would give null (not UTF-8) or '' (no bytes, or only a byte order mark), without
 * making the string: a verifier checks this, and only the parser decodes.
 */
export function utf8Problem(body: Buffer): 'empty' | 'invalid' | null {
  if (body.length === 0 || (body.length === 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf))
    return 'empty';
  return isUtf8(body) ? null : 'invalid';
}

/** Parses a verified body that must be one JSON object. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MalformedPayloadError(`body is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MalformedPayloadError('body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export const ZERO_SHA = /^0+$/;

/** A commit id as forges send it (SHA-1 or SHA-256, lower-case hex). */
export function requireSha(value: unknown, field: string): string {
  if (typeof value !== 'string' || !COMMIT_SHA.test(value)) {
    throw new MalformedPayloadError(`${field} must be a 40- or 64-character hex commit id`);
  }
  return value;
}

export function requireString(value: unknown, field: string, max = 1024): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new MalformedPayloadError(`${field} must be a non-empty string`);
  if (value.length > max) throw new MalformedPayloadError(`${field} is longer than ${max} characters`);
  return value;
}

export function optionalString(value: unknown, max = 65_536): string | null {
  return typeof value === 'string' ? value.slice(0, max) : null;
}

/** Walks `obj.a.b` without trusting the shape. */
export function pick(obj: unknown, ...path: string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

// git check-ref-format's rules: a ref that breaks them cannot have been pushed, so the payload is forged or broken.
// eslint-disable-next-line no-control-regex
const REF_FORBIDDEN = /[\x00-\x20\x7f~^:?*[\\]|\.\.|@\{|\/\/|\/\.|\.lock(?:\/|$)|[/.]$/;

/**
 * Splits a pushed ref into a branch push or a tag push, refusing names git itself would refuse. Any other
 * ref (`refs/notes/…`) is a push with neither, which no pipeline matches.
 */
export function splitRef(ref: string): { kind: 'push'; branch?: string } | { kind: 'tag'; tag: string } {
  if (ref.length > 1024 || REF_FORBIDDEN.test(ref)) {
    throw new MalformedPayloadError('ref is not a valid git ref name');
  }
  if (ref.startsWith('refs/heads/') && ref.length > 11) return { kind: 'push', branch: ref.slice(11) };
  if (ref.startsWith('refs/tags/') && ref.length > 10) return { kind: 'tag', tag: ref.slice(10) };
  return { kind: 'push' };
}

/** A branch name as a pull request payload gives it, checked like a ref (it reaches only env values). */
export function requireBranch(value: unknown, field: string): string {
  const name = requireString(value, field, 255);
  if (splitRef(`refs/heads/${name}`).kind !== 'push')
    throw new MalformedPayloadError(`${field} is not a branch`);
  return name;
}

/**
 * The commit a tag push builds: the payload's commit of the tag (`head_commit.id`, `checkout_sha`) when
 * it differs from `after` (then `after` is an annotated tag's object), else `after`. Branch pushes and
 * deletions keep `after`.
 */
export function peeledTag(ref: string, after: string, commit: unknown): string {
  if (!ref.startsWith('refs/tags/') || ZERO_SHA.test(after)) return after;
  return typeof commit === 'string' && COMMIT_SHA.test(commit) ? commit : after;
}
