import type { Diagnostic } from './diagnostic.ts';
import type { Positions } from './positions.ts';

/** A path in the parsed action file, as `Positions` takes it. */
export type Path = PropertyKey[];

/** What the parts of `parseActionFile` share: where a path is, and how a problem is reported there. */
export interface ActionFileReader {
  pos: Positions;
  report(at: { line: number; col: number }, message: string): void;
  /** Reports every key of `obj` (at `path`) not in `known`, naming `where` it is. */
  unknownKeys(obj: Record<string, unknown>, path: Path, known: string[], where: string): void;
}

/** A reader that collects its problems into `diagnostics`, each at its line and column in `file`. */
export function actionFileReader(file: string, pos: Positions, diagnostics: Diagnostic[]): ActionFileReader {
  const report = (at: { line: number; col: number }, message: string) => {
    diagnostics.push({ file, ...at, message });
  };
  return {
    pos,
    report,
    unknownKeys: (obj, path, known, where) => {
      for (const k of Object.keys(obj))
        if (!known.includes(k))
          report(pos.ofKey(path, k), `unknown key "${k}" in ${where} (expected one of: ${known.join(', ')})`);
    },
  };
}

/** A YAML map (not null, not a list). */
export const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A scalar as text (numbers and booleans as YAML wrote them), or null for anything else. */
export const textOf = (v: unknown): string | null =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;
