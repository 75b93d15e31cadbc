import { fromPlain, isObject, toText, type Value } from './expr/values.ts';

/** GitHub's limit on the jobs one matrix may make. */
export const MAX_COMBINATIONS = 256;

export type Combination = { [key: string]: Value };

export interface MatrixProblem {
  /** Path below `strategy.matrix`. */
  path: PropertyKey[];
  message: string;
}

const sameValue = (a: Value, b: Value): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Whether `partial` (an exclude or include entry) agrees with `combo` on every key both have. */
function agrees(combo: Combination, partial: Combination, keys: Iterable<string>): boolean {
  for (const k of keys) if (k in partial && k in combo && !sameValue(combo[k]!, partial[k]!)) return false;
  return true;
}

/**
 * Expands `strategy.matrix` as GitHub documents it: the product of the vectors in the order written,
 * minus every combination an `exclude` entry matches, then each `include` entry is merged into every
 * combination whose original values it does not change (its other keys are added, later includes
 * overwrite what earlier ones added), or becomes a combination of its own when it fits none.
 */
export function expandMatrix(matrix: Record<string, unknown>): {
  combinations: Combination[];
  problems: MatrixProblem[];
} {
  const problems: MatrixProblem[] = [];
  const vectors: Array<[string, Value[]]> = [];
  const entries = (key: 'include' | 'exclude'): Combination[] => {
    const v = matrix[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      problems.push({ path: [key], message: `matrix ${key} must be a list of maps` });
      return [];
    }
    const out: Combination[] = [];
    v.forEach((e, i) => {
      const value = fromPlain(e);
      if (isObject(value)) out.push(value);
      else problems.push({ path: [key, i], message: `each ${key} entry is a map of matrix keys and values` });
    });
    return out;
  };
  for (const [key, v] of Object.entries(matrix)) {
    if (key === 'include' || key === 'exclude') continue;
    if (!Array.isArray(v)) {
      problems.push({ path: [key], message: `matrix value "${key}" must be a list of values` });
      continue;
    }
    if (v.length === 0) {
      problems.push({
        path: [key],
        message: `matrix value "${key}" is an empty list; give it at least one value`,
      });
      continue;
    }
    vectors.push([key, v.map(fromPlain)]);
  }
  const include = entries('include');
  const exclude = entries('exclude');
  const keys = vectors.map(([k]) => k);
  for (const [i, e] of exclude.entries()) {
    const unknown = Object.keys(e).find((k) => !keys.includes(k));
    if (unknown !== undefined)
      problems.push({
        path: ['exclude', i, unknown],
        message: `exclude uses "${unknown}", which is not a matrix key (${keys.join(', ') || 'none'})`,
      });
  }
  if (problems.length > 0) return { combinations: [], problems };

  let product: Combination[] = vectors.length > 0 ? [{}] : [];
  for (const [key, values] of vectors) {
    product = product.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
    if (product.length > MAX_COMBINATIONS * 16) break; // far over the limit; stop before it costs memory
  }
  const base = product.filter(
    (c) => !exclude.some((e) => Object.keys(e).every((k) => sameValue(c[k]!, e[k]!))),
  );
  const originals = base.map((c) => ({ ...c }));
  const combinations = base;
  const extra: Combination[] = [];
  for (const inc of include) {
    let used = false;
    combinations.forEach((c, i) => {
      if (!agrees(originals[i]!, inc, keys)) return;
      used = true;
      for (const [k, v] of Object.entries(inc)) if (!keys.includes(k)) c[k] = v;
    });
    if (!used) extra.push({ ...inc });
  }
  const all = [...combinations, ...extra];
  if (all.length === 0)
    problems.push({
      path: [],
      message: 'the matrix makes no job: every combination is excluded, or it has no values',
    });
  else if (all.length > MAX_COMBINATIONS)
    problems.push({
      path: [],
      message: `the matrix makes ${product.length > MAX_COMBINATIONS * 16 ? 'more than ' + MAX_COMBINATIONS * 16 : all.length} jobs; at most ${MAX_COMBINATIONS} are allowed (as on GitHub): remove values or exclude combinations`,
    });
  return { combinations: problems.length ? [] : all, problems };
}

/** How a combination is shown after a job's name: "20, ubuntu-latest". */
export function describeCombination(c: Combination): string {
  return Object.values(c)
    .map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : toText(v)))
    .join(', ');
}

/** A job id for a combination: `test-20-ubuntu-latest`, safe for keys, URLs and paths. */
export function combinationId(job: string, c: Combination): string {
  const words = Object.values(c)
    .map((v) => (typeof v === 'object' && v !== null ? '' : toText(v)))
    .join('-')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-|-$/g, '');
  return `${job}-${words}`.slice(0, 100).replace(/-$/, '');
}
