import type { z } from 'zod';
import { pipelineSchema, type PipelineFile } from './schema.ts';

/** Stand-ins for required values the schema refused, so the rest of the file can still be checked. */
const REQUIRED: Record<string, unknown> = { repository: '*', on: 'push', jobs: {}, run: ':' };

type Container = Record<string, unknown> | unknown[];

function parentOf(root: unknown, path: readonly PropertyKey[]): Container | null {
  let at: unknown = root;
  for (const k of path.slice(0, -1)) {
    if (at === null || typeof at !== 'object') return null;
    at = (at as Record<PropertyKey, unknown>)[k as string];
  }
  return at !== null && typeof at === 'object' ? (at as Container) : null;
}

/**
 * The file minus what the schema refused: unknown keys and wrong values removed, required values and
 * list items replaced by harmless stand-ins (so positions of what follows stay right). Compiling that
 * finds the graph, pattern and expression problems a schema error would otherwise hide until it is
 * fixed. Returns null when the file cannot be brought into shape. `removed` gets the paths changed.
 */
export function repairForChecks(
  data: unknown,
  issues: readonly z.core.$ZodIssue[],
  removed: PropertyKey[][],
): PipelineFile | null {
  const copy = structuredClone(data);
  let current = issues;
  for (let round = 0; round < 8; round++) {
    for (const issue of current) {
      if (issue.code === 'unrecognized_keys') {
        const parent = parentOf(copy, [...issue.path, '']);
        if (parent && !Array.isArray(parent)) for (const k of issue.keys) delete parent[k];
        continue;
      }
      const path: PropertyKey[] = [...issue.path];
      if (path.length === 0) return null;
      // A list item goes whole: a bad step becomes a step that does nothing, a bad pattern matches all.
      const parent = parentOf(copy, path);
      if (parent === null) continue;
      const key = path.at(-1)!;
      removed.push(path);
      if (Array.isArray(parent)) {
        const k = Number(key);
        const context = String(path.at(-2) ?? '');
        parent[k] =
          context === 'steps'
            ? { run: ':' }
            : context === 'notify'
              ? { url: 'x', secret: '${{ env.X }}' }
              : '**';
      } else if (typeof key === 'string' && key in REQUIRED && path.length <= 4) {
        parent[key] = structuredClone(REQUIRED[key]);
      } else if (issue.code === 'invalid_key') {
        delete parent[key as string];
      } else {
        delete parent[key as string];
      }
    }
    const again = pipelineSchema.safeParse(copy);
    if (again.success) return again.data;
    current = again.error.issues;
  }
  return null;
}
