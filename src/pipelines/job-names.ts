import type { CompileContext } from './compile-context.ts';
import type { Strategy } from './compile-strategy.ts';
import type { Place } from './expr/check-expression.ts';

/**
 * The names an expression in a job may read, given the step ids before it and the env names in scope
 * (null: none of that kind there); each refused name says why.
 */
export type JobNames = (
  stepIds: ReadonlySet<string> | null,
  envScope: ReadonlySet<string> | null,
) => Place['names'];

/** What the expressions of job `jobId` may name: its needs, its matrix keys, earlier steps, env in scope. */
export function jobNames(
  cx: CompileContext,
  jobId: string,
  needs: readonly string[],
  strategy: Strategy | null,
): JobNames {
  const matrixKeys = strategy ? [...new Set(strategy.combinations.flatMap((c) => Object.keys(c)))] : null;
  return (stepIds: ReadonlySet<string> | null, envScope: ReadonlySet<string> | null): Place['names'] =>
    cx.expressions.names({
      ...(envScope ? { env: cx.expressions.envNames(envScope, stepIds !== null) } : {}),
      needs: (n) =>
        needs.includes(n)
          ? null
          : `needs.${n}: job "${n}" is not in the needs of "${jobId}"${needs.length ? ` (${needs.join(', ')})` : ''}; add it to needs:`,
      matrix: (n) =>
        matrixKeys === null
          ? `matrix.${n}: job "${jobId}" has no strategy.matrix`
          : matrixKeys.includes(n) || strategy!.combinations.length === 0
            ? null
            : `matrix.${n}: the matrix of "${jobId}" has no key "${n}" (it has ${matrixKeys.join(', ')})`,
      ...(stepIds
        ? {
            steps: (n: string) =>
              stepIds.has(n) ? null : `steps.${n}: no step before this one has id: ${n}`,
          }
        : {}),
    });
}
