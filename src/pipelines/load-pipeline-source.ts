import { LineCounter, parseDocument } from 'yaml';
import { checkTheRest } from './check-the-rest.ts';
import { compilePipeline } from './compile.ts';
import type { Diagnostic } from './diagnostic.ts';
import { issuesToDiagnostics } from './issues-to-diagnostics.ts';
import type { Pipeline } from './pipeline.ts';
import { Positions } from './positions.ts';
import { pipelineSchema } from './schema.ts';
import {
  depthOf,
  firstInvalidUtf8,
  flowNestingBeyond,
  MAX_ALIASES,
  MAX_DEPTH,
  MAX_FILE_BYTES,
} from './source-limits.ts';
import { yamlProblem } from './yaml-problem.ts';

/** Compiler order: by line, then column. */
function byPosition(ds: Diagnostic[]): Diagnostic[] {
  return ds.sort((a, b) => a.line - b.line || a.col - b.col);
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
