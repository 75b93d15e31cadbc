import { readFile, readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { compilePipeline } from './compile.ts';
import type { Diagnostic } from './diagnostic.ts';
import type { Pipeline } from './pipeline.ts';
import { Positions } from './positions.ts';
import { knownKeys } from './known-keys.ts';
import { pipelineSchema } from './schema.ts';
import { repairForChecks } from './repair-for-checks.ts';
import { yamlProblem } from './yaml-problem.ts';

/** Files larger than this are refused before parsing. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** YAML aliases expanded at most this many times (stops "billion laughs"). */
const MAX_ALIASES = 100;
/** Deeper nesting than any real pipeline needs; refused before it can exhaust the stack. */
const MAX_DEPTH = 64;

export interface LoadResult {
  pipelines: Pipeline[];
  diagnostics: Diagnostic[];
  /** Each file on its own, in name order: what it defines (null when it has problems) and its problems. */
  files: FileResult[];
}

export interface FileResult {
  /** The file's name in the pipelines folder: what identifies it across reloads and restarts. */
  name: string;
  /** The path diagnostics show. */
  file: string;
  pipeline: Pipeline | null;
  diagnostics: Diagnostic[];
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

function suggest(key: string, path: readonly PropertyKey[]): string {
  const known = knownKeys(pipelineSchema, path);
  const lower = key.toLowerCase();
  const prefixed = known.find((k) => k.startsWith(lower) || lower.startsWith(k));
  if (prefixed) return ` (did you mean "${prefixed}"?)`;
  const best = known.map((k) => [k, distance(lower, k)] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= 3
    ? ` (did you mean "${best[0]}"?)`
    : known.length
      ? ` (expected one of: ${known.join(', ')})`
      : '';
}

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
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, not ${describeValue(value)}`;
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
function issuesToDiagnostics(
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
          message: `unknown key "${key}"${path.length ? ` in ${label(path)}` : ''}${suggest(key, path)}`,
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

/**
 * Offset of the first flow bracket nested deeper than `max`, or null. Checked before parsing, because
 * the YAML parser recurses per level and a few thousand brackets would exhaust its stack.
 */
function flowNestingBeyond(text: string, max: number): number | null {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if (ch === '"' || ch === "'") {
      for (i++; i < text.length && text[i] !== ch; i++) if (ch === '"' && text[i] === '\\') i++;
    } else if (ch === '[' || ch === '{') {
      if (++depth > max) return i;
    } else if ((ch === ']' || ch === '}') && depth > 0) depth--;
  }
  return null;
}

/** Compiler order: by line, then column. */
function byPosition(ds: Diagnostic[]): Diagnostic[] {
  return ds.sort((a, b) => a.line - b.line || a.col - b.col);
}

function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return depth;
  let max = depth;
  for (const v of Object.values(value)) max = Math.max(max, depthOf(v, depth + 1));
  return max;
}

/** Parses and checks one file's bytes. `file` is the name diagnostics carry. */
export function loadPipelineSource(
  file: string,
  bytes: Buffer,
  env: Readonly<Record<string, string>>,
): { pipeline: Pipeline | null; diagnostics: Diagnostic[]; nameAt?: { line: number; col: number } } {
  const fail = (line: number, col: number, message: string) => ({
    pipeline: null,
    diagnostics: [{ file, line, col, message }],
  });
  if (bytes.length > MAX_FILE_BYTES)
    return fail(1, 1, `file is ${bytes.length} bytes; pipeline files are limited to ${MAX_FILE_BYTES}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const before = bytes.subarray(0, bad).toString('utf8').split('\n');
    return fail(before.length, before.at(-1)!.length + 1, 'file is not valid UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const tooDeep = flowNestingBeyond(text, MAX_DEPTH);
  if (tooDeep !== null) {
    const before = text.slice(0, tooDeep).split('\n');
    return fail(
      before.length,
      before.at(-1)!.length + 1,
      `file is nested more than ${MAX_DEPTH} levels deep`,
    );
  }
  const lines = new LineCounter();
  let doc;
  try {
    doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true });
  } catch (err) {
    if (err instanceof RangeError) return fail(1, 1, 'file is nested too deeply to parse');
    throw err;
  }
  const pos = new Positions(doc, lines, text);
  if (doc.errors.length > 0) {
    // A stack overflow is reported once per level it unwound; one line says it.
    const deep = doc.errors.find((e) => /call stack/i.test(e.message));
    if (deep) {
      const p = pos.at(deep.pos[0]);
      return fail(p.line, p.col, 'file is nested too deeply to parse');
    }
    // One indentation slip makes the parser report several errors at once: the first one says it. What
    // the parser still read before that line is checked too, so other problems are not hidden.
    const at = pos.at(doc.errors[0]!.pos[0]);
    const plain = yamlProblem(doc.errors[0]!, text);
    const yamlDiagnostic = { file, ...pos.at(plain.offset), message: plain.message };
    let rest: Diagnostic[] = [];
    try {
      const partial = scalarKeysOnly(doc.toJS({ maxAliasCount: MAX_ALIASES, mapAsMap: true }));
      if (partial && typeof partial === 'object' && depthOf(partial) <= MAX_DEPTH) {
        const parsed = pipelineSchema.safeParse(partial);
        // Only what compiling finds: the schema's view of a cut-off file would blame the cut.
        rest = parsed.success
          ? compilePipeline(file, parsed.data, pos, env).diagnostics
          : checkTheRest(file, partial, parsed.error.issues, pos, env, []);
      }
    } catch {
      rest = [];
    }
    return {
      pipeline: null,
      diagnostics: byPosition([yamlDiagnostic, ...rest.filter((d) => d.line < at.line)]),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    if (err instanceof RangeError) return fail(1, 1, 'file is nested too deeply to parse');
    const at = text.search(/\*[^\s*]/);
    const p = pos.at(Math.max(0, at));
    return fail(
      p.line,
      p.col,
      `YAML aliases expand too much (more than ${MAX_ALIASES}); write the values out`,
    );
  }
  if (data === null || data === undefined)
    return fail(1, 1, 'file is empty; a pipeline needs at least "repository", "on" and "jobs"');
  if (depthOf(data) > MAX_DEPTH) return fail(1, 1, `file is nested more than ${MAX_DEPTH} levels deep`);

  const parsed = pipelineSchema.safeParse(data);
  if (!parsed.success) {
    const schema = issuesToDiagnostics(file, parsed.error.issues, pos, data);
    return {
      pipeline: null,
      diagnostics: byPosition([
        ...schema,
        ...checkTheRest(file, data, parsed.error.issues, pos, env, schema),
      ]),
    };
  }
  const compiled = compilePipeline(file, parsed.data, pos, env);
  const diagnostics = byPosition(compiled.diagnostics);
  const nameAt = parsed.data.name === undefined ? { line: 1, col: 1 } : pos.of(['name']);
  return { pipeline: diagnostics.length ? null : compiled.pipeline, diagnostics, nameAt };
}

/** Maps to objects, leaving out entries whose key is a list or map (what a broken line parses into). */
function scalarKeysOnly(v: unknown): unknown {
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v) if (k === null || typeof k !== 'object') out[String(k)] = scalarKeysOnly(x);
    return out;
  }
  if (Array.isArray(v)) return v.map(scalarKeysOnly);
  return v;
}

const before = (a: { line: number; col: number }, b: { line: number; col: number }) =>
  a.line < b.line || (a.line === b.line && a.col <= b.col);

/**
 * One run shows every problem: what the schema refused is taken out, the rest is compiled, and the
 * graph, pattern and expression problems found there are reported too, except where they are only
 * echoes of what was taken out.
 */
function checkTheRest(
  file: string,
  data: unknown,
  issues: readonly z.core.$ZodIssue[],
  pos: Positions,
  env: Readonly<Record<string, string>>,
  schema: Diagnostic[],
): Diagnostic[] {
  const removed: PropertyKey[][] = [];
  const repaired = repairForChecks(data, issues, removed);
  if (!repaired) return [];
  const spans = removed.flatMap((p) => pos.span(p) ?? []);
  const parents = removed.map((p) => pos.of(p.slice(0, -1)));
  const seen = new Set(schema.map((d) => `${d.line}:${d.col}`));
  return compilePipeline(file, repaired, pos, env).diagnostics.filter(
    (d) =>
      !seen.has(`${d.line}:${d.col}`) &&
      !spans.some((s) => before(s.start, d) && before(d, s.end)) &&
      !parents.some((p) => p.line === d.line && p.col === d.col),
  );
}

function firstInvalidUtf8(bytes: Buffer): number {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let lo = 0;
  let hi = bytes.length;
  // Binary search for the shortest invalid prefix, allowing for a multi-byte sequence cut at the end.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      dec.decode(bytes.subarray(0, mid), { stream: true });
      dec.decode();
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  return Math.max(0, lo - 1);
}

/** Loads every `*.yml`/`*.yaml` in `dir` (sorted), reporting all problems of all files, duplicates included. */
export async function loadPipelines(dir: string, env: Readonly<Record<string, string>>): Promise<LoadResult> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (err) {
    throw new ConfigError(
      `cannot read the pipelines folder ${dir} (${(err as NodeJS.ErrnoException).code}); set PUSHCI_PIPELINES or --pipelines`,
    );
  }
  const pipelines: Pipeline[] = [];
  const diagnostics: Diagnostic[] = [];
  const files: FileResult[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const full = join(dir, name);
    const shown = relative(process.cwd(), full) || name;
    if (!(await stat(full)).isFile()) continue;
    const result = loadPipelineSource(shown, await readFile(full), env);
    const own: FileResult = { name, file: shown, pipeline: null, diagnostics: result.diagnostics };
    files.push(own);
    diagnostics.push(...result.diagnostics);
    const p = result.pipeline;
    if (!p) continue;
    const first = seen.get(p.name);
    if (first) {
      const d = {
        file: shown,
        ...(result.nameAt ?? { line: 1, col: 1 }),
        message: `pipeline name "${p.name}" is already used by ${first}`,
      };
      diagnostics.push(d);
      own.diagnostics = [...own.diagnostics, d];
      continue;
    }
    seen.set(p.name, shown);
    // A relative local clone-url means "relative to this file", not to wherever a worker runs.
    if (
      p.cloneUrl &&
      !/^[a-z][a-z0-9+.-]*:/i.test(p.cloneUrl) &&
      !/^[^/]+@[^/]+:/.test(p.cloneUrl) &&
      !isAbsolute(p.cloneUrl) &&
      !p.cloneUrl.includes('${{')
    ) {
      p.cloneUrl = resolve(dir, p.cloneUrl);
    }
    pipelines.push(p);
    own.pipeline = p;
  }
  return { pipelines, diagnostics, files };
}
