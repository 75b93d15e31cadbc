import type { Diagnostic } from './diagnostic.ts';
import { SECRET_ENV_PREFIX, findReferences, variableFor } from './expressions.ts';
import { createExpressionChecker } from './expression-checker.ts';
import type { Place } from './expr/check-expression.ts';
import { GlobSyntaxError, parseGlob, type Glob } from './glob.ts';
import type { Positions } from './positions.ts';
import { settingEnvProblem } from './settings-env.ts';

/** A path into the parsed file, as Positions takes it. */
export type Path = PropertyKey[];

type At = { line: number; col: number };

/** One value or a list of them, as a list (null when absent). */
export const list = <T>(value: T | T[] | undefined): T[] | null =>
  value === undefined ? null : Array.isArray(value) ? value : [value];

/**
 * What compiling one file shares: where it reports problems (every one, at its file:line:col), and the
 * checks many parts of a file need (patterns, references, paths, env maps, expressions).
 */
export type CompileContext = ReturnType<typeof createCompileContext>;

export function createCompileContext(file: string, pos: Positions, env: Readonly<Record<string, string>>) {
  const diagnostics: Diagnostic[] = [];
  const report = (at: At, message: string) => diagnostics.push({ file, ...at, message });

  const reported = new Set<string>();
  /** Reports a problem each matrix combination would find only once. */
  const reportOnce = (at: At, message: string) => {
    const key = `${at.line}:${at.col}:${message}`;
    if (!reported.has(key)) report(at, message);
    reported.add(key);
  };

  /** Patterns (filters): each parsed, `!` only where allowed, a list of only `!` patterns refused. */
  const globs = (value: string | string[] | undefined, path: Path, allowNegation: boolean): Glob[] | null => {
    const items = list(value);
    if (!items) return null;
    const out: Glob[] = [];
    items.forEach((text, i) => {
      const itemPath = Array.isArray(value) ? [...path, i] : path;
      try {
        const g = parseGlob(text);
        if (g.negated && !allowNegation) {
          report(
            pos.of(itemPath),
            `"!" is not allowed in ${String(path.at(-1))}; use the list without -ignore and "!" patterns`,
          );
        }
        out.push(g);
      } catch (err) {
        if (!(err instanceof GlobSyntaxError)) throw err;
        const offset = err.offset + (text.startsWith('!') ? 1 : 0);
        report(pos.inString(itemPath, offset), `bad pattern "${text}": ${err.message}`);
      }
    });
    if (allowNegation && out.length > 0 && out.every((g) => g.negated)) {
      report(
        pos.of(path),
        `${String(path.at(-1))} has only "!" patterns, so it never matches; start with a positive pattern such as "**"`,
      );
    }
    return out;
  };

  /** `${{ env.X }}` and `${{ secrets.X }}` in server-side text: each must be set on the server. */
  const checkRefs = (text: string, path: Path, allowed?: string) => {
    for (const ref of findReferences(text)) {
      const setting = 'error' in ref || ref.kind !== 'env' ? null : settingEnvProblem(ref.name);
      if ('error' in ref)
        report(
          pos.inString(path, ref.offset),
          allowed ? ref.error.replace(/only .* are allowed$/, `only ${allowed} are allowed`) : ref.error,
        );
      else if (setting) report(pos.inString(path, ref.offset), setting);
      else if (env[variableFor(ref)] === undefined) {
        const hint =
          ref.kind === 'secrets'
            ? `set ${SECRET_ENV_PREFIX}${ref.name} in the server's environment`
            : `set ${ref.name} in the server's environment`;
        report(pos.inString(path, ref.offset), `\${{ ${ref.kind}.${ref.name} }} is not defined: ${hint}`);
      }
    }
  };

  /** A path a job may keep: relative to the checkout (or `~/` for caches), never out of it. */
  const checkPath = (text: string, path: Path, home: boolean) => {
    const rel = home && text.startsWith('~/') ? text.slice(2) : text.replace(/^!/, '');
    if (rel.startsWith('/') || rel.startsWith('~') || rel.split('/').includes('..') || rel === '')
      report(
        pos.of(path),
        `"${text}" must stay inside the checkout (relative, without ".."${home ? '; or under ~/' : ''})`,
      );
  };

  const expressions = createExpressionChecker(pos, report, env);

  /** An `env:` map as text, each value's expressions checked against what `where` may read. */
  const envMap = (
    value: Record<string, string | number | boolean | null> | undefined,
    path: Path,
    where: Place,
  ) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value ?? {})) {
      out[k] = v === null ? '' : String(v);
      expressions.template(out[k], [...path, k], where);
    }
    return out;
  };

  return {
    file,
    pos,
    env,
    diagnostics,
    report,
    reportOnce,
    globs,
    checkRefs,
    checkPath,
    expressions,
    envMap,
  };
}
