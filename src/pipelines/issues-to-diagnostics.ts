import type { z } from 'zod';
import type { Diagnostic } from './diagnostic.ts';
import type { Positions } from './positions.ts';
import { suggestKey } from './suggest-key.ts';
import { UNSUPPORTED_EVENTS } from './unsupported-events.ts';

/** A path as messages show it: `jobs.build.steps[0]`. */
function label(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)),
    '',
  );
}

/** What to add after "missing required key X". */
const MISSING_HINTS: Record<string, string> = {
  on: ': say which events start the pipeline, e.g. "on: push" or "on: [push, pull_request]"',
  repository: ': the repository this pipeline builds, e.g. "repository: octo-org/web"',
  jobs: ': the jobs to run, e.g. "jobs: { build: { steps: [ { run: make } ] } }"',
  run: ': the script the step runs',
  cron: ': five fields, e.g. "0 3 * * *"',
  url: ': where to send the webhooks',
  secret: ': the whsec_ signing secret, as ${{ env.NAME }} or ${{ secrets.NAME }}',
  matrix: ': keys with lists of values',
};

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let at = data;
  for (const k of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[k as string];
  }
  return at;
}

/** A value as a message names it: "the number 42", "a list", "text "abc"". */
function describeValue(v: unknown): string {
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the text "${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (typeof v === 'boolean') return String(v);
  return `the ${typeof v} ${String(v)}`;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map of keys and values',
  record: 'a map of keys and values',
  array: 'a list',
  null: 'empty',
};

/** A zod issue in words: what is wrong and what would be right. */
function humanIssue(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describeValue(value)}`;
    case 'invalid_value': {
      // GitHub's other events parse only to be reported as not supported: they are not offered.
      const offered = issue.values.filter(
        (v) => typeof v !== 'string' || !Object.hasOwn(UNSUPPORTED_EVENTS, v),
      );
      return `must be one of ${offered.map((v) => JSON.stringify(v)).join(', ')}, not ${describeValue(value)}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string')
        return min <= 1 ? 'must not be empty' : `must be at least ${min} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return min <= 1 ? 'must not be an empty list' : `needs at least ${min} items`;
      return `must be ${issue.inclusive ? 'at least' : 'more than'} ${min}, not ${describeValue(value)}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${max} items`;
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${max}, not ${describeValue(value)}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return /^Invalid input/.test(issue.message)
        ? `is not valid here (${describeValue(value)})`
        : `: ${issue.message}`.replace(/^: /, ': ');
  }
}
/** Turns zod issues into diagnostics; for unions, reports the nested problems of the branch that nearly fit. */
export function issuesToDiagnostics(
  file: string,
  issues: readonly z.core.$ZodIssue[],
  pos: Positions,
  data: unknown,
  base: PropertyKey[] = [],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    const value = valueAt(data, path);
    if (value === undefined && issue.code !== 'unrecognized_keys' && issue.code !== 'invalid_key') {
      const key = String(path.at(-1));
      out.push({
        file,
        ...pos.of(path.slice(0, -1)),
        message: `missing required key "${key}"${path.length > 1 ? ` in ${label(path.slice(0, -1))}` : ''}${MISSING_HINTS[key] ?? ''}`,
      });
    } else if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({
          file,
          ...pos.ofKey(path, key),
          message: `unknown key "${key}"${path.length ? ` in ${label(path)}` : ''}${suggestKey(key, path)}`,
        });
      }
    } else if (issue.code === 'invalid_key') {
      const key = String(path.at(-1));
      const why = issue.issues[0]?.message ?? issue.message;
      out.push({
        file,
        ...pos.ofKey(path.slice(0, -1), key),
        message: `invalid key "${key}" in ${label(path.slice(0, -1))}: ${why}`,
      });
    } else if (issue.code === 'invalid_union') {
      const nested = issue.errors.find((branch) =>
        branch.some((i) => i.path.length > 0 || i.code === 'unrecognized_keys'),
      );
      if (nested) out.push(...issuesToDiagnostics(file, nested, pos, data, path));
      else
        out.push({
          file,
          ...pos.of(path),
          message: `${label(path) || 'file'} ${issue.message}, not ${describeValue(value)}`,
        });
    } else {
      const words = humanIssue(issue, value);
      out.push({
        file,
        ...pos.of(path),
        message: `${label(path) || 'file'}${words.startsWith(':') ? '' : ' '}${words}`,
      });
    }
  }
  return out;
}
