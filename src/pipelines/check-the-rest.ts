import type { z } from 'zod';
import { compilePipeline } from './compile.ts';
import type { Diagnostic } from './diagnostic.ts';
import type { Positions } from './positions.ts';
import { repairForChecks } from './repair-for-checks.ts';

const before = (a: { line: number; col: number }, b: { line: number; col: number }) =>
  a.line < b.line || (a.line === b.line && a.col <= b.col);

/**
 * One run shows every problem: what the schema refused is taken out, the rest is compiled, and the
 * graph, pattern and expression problems found there are reported too, except where they are only
 * echoes of what was taken out.
 */
export function checkTheRest(
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
