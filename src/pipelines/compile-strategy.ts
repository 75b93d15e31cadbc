import type { CompileContext, Path } from './compile-context.ts';
import { expandMatrix, type Combination } from './matrix.ts';
import type { PipelineFile } from './schema.ts';

/** A job's strategy, compiled. */
export interface Strategy {
  /** The matrix's combinations; none after a problem. */
  combinations: Combination[];
  failFast: boolean;
  maxParallel: number | null;
}

/** strategy: its combinations (none after a problem), fail-fast and max-parallel. */
export function compileStrategy(
  cx: CompileContext,
  value: PipelineFile['jobs'][string]['strategy'],
  path: Path,
): Strategy | null {
  if (value === undefined) return null;
  const failFast = value['fail-fast'] ?? true;
  const maxParallel = value['max-parallel'] ?? null;
  if (typeof value.matrix === 'string') {
    cx.report(
      cx.pos.of([...path, 'matrix']),
      'not supported: a matrix computed by an expression; list its values in the file',
    );
    return { combinations: [], failFast, maxParallel };
  }
  const withExpression = findExpressionPath(value.matrix);
  if (withExpression) {
    cx.report(
      cx.pos.of([...path, 'matrix', ...withExpression]),
      'not supported: ${{ }} in matrix values; list the values in the file',
    );
    return { combinations: [], failFast, maxParallel };
  }
  const { combinations, problems } = expandMatrix(value.matrix);
  for (const p of problems) cx.report(cx.pos.of([...path, 'matrix', ...p.path]), p.message);
  return { combinations, failFast, maxParallel };
}

/** The path of the first string holding `${{` inside a matrix, or null. */
function findExpressionPath(value: unknown, path: PropertyKey[] = []): PropertyKey[] | null {
  if (typeof value === 'string') return value.includes('${{') ? path : null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const p = findExpressionPath(v, [...path, i]);
      if (p) return p;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = findExpressionPath(v, [...path, k]);
      if (p) return p;
    }
  }
  return null;
}
