import { ExpressionError } from './expression-error.ts';
import { checkTextLength, jsonTextLength } from './text-limit.ts';
import { fromPlain, looseEquals, toText, type Value } from './values.ts';

/** What a status function asks: how the job (for a step) or the needed jobs (for a job) went so far. */
export interface StatusInfo {
  /** Nothing before failed and nothing was canceled. */
  success: boolean;
  /** Something before failed. */
  failure: boolean;
  /** The build was canceled. */
  cancelled: boolean;
}

/** What a function may use besides its arguments. */
export interface FunctionContext {
  status?: StatusInfo;
  /** hashFiles: SHA-256 over the workspace files matching the patterns, '' when none match. */
  hashFiles?: (patterns: string[]) => string;
}

export interface FunctionDef {
  /** The name as GitHub documents it (calls ignore case). */
  name: string;
  min: number;
  max: number;
  /** Status functions only make sense in `if:`; hashFiles only where a workspace exists (steps). */
  needs?: 'status' | 'workspace';
  call(args: Value[], ctx: FunctionContext): Value;
}

function format(template: string, args: Value[]): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch === '{' && template[i + 1] === '{') {
      out += '{';
      i++;
    } else if (ch === '}' && template[i + 1] === '}') {
      out += '}';
      i++;
    } else if (ch === '{') {
      const m = /^\{(\d+)\}/.exec(template.slice(i));
      if (!m) throw new ExpressionError(`format: "${template}" has a "{" that is not "{N}" or "{{"`);
      const n = Number(m[1]);
      if (n >= args.length)
        throw new ExpressionError(
          `format: "${template}" uses {${n}} but only ${args.length} argument(s) follow`,
        );
      out += toText(args[n]!);
      checkTextLength('format', out.length);
      i += m[0].length - 1;
    } else if (ch === '}') {
      throw new ExpressionError(`format: "${template}" has a "}" without "{" (write "}}" for a literal one)`);
    } else out += ch;
  }
  return out;
}

function toJSON(v: Value): string {
  checkTextLength('toJSON', jsonTextLength(v));
  return JSON.stringify(v, (_k, x: Value) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2);
}

function status(ctx: FunctionContext): StatusInfo {
  return ctx.status ?? { success: true, failure: false, cancelled: false };
}

const defs: FunctionDef[] = [
  {
    name: 'contains',
    min: 2,
    max: 2,
    call: ([search, item]) =>
      Array.isArray(search)
        ? search.some((x) => looseEquals(x, item!))
        : toText(search!).toUpperCase().includes(toText(item!).toUpperCase()),
  },
  {
    name: 'startsWith',
    min: 2,
    max: 2,
    call: ([s, v]) => toText(s!).toUpperCase().startsWith(toText(v!).toUpperCase()),
  },
  {
    name: 'endsWith',
    min: 2,
    max: 2,
    call: ([s, v]) => toText(s!).toUpperCase().endsWith(toText(v!).toUpperCase()),
  },
  { name: 'format', min: 1, max: Infinity, call: ([f, ...rest]) => format(toText(f!), rest) },
  {
    name: 'join',
    min: 1,
    max: 2,
    call: ([a, sep]) => {
      const s = sep === undefined ? ',' : toText(sep);
      if (!Array.isArray(a)) return toText(a!);
      const parts = a.map(toText);
      checkTextLength(
        'join',
        parts.reduce((n, p) => n + p.length, s.length * (parts.length - 1)),
      );
      return parts.join(s);
    },
  },
  { name: 'toJSON', min: 1, max: 1, call: ([v]) => toJSON(v!) },
  {
    name: 'fromJSON',
    min: 1,
    max: 1,
    call: ([v]) => {
      const text = toText(v!);
      try {
        return fromPlain(JSON.parse(text));
      } catch {
        throw new ExpressionError(
          `fromJSON: not valid JSON: ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`,
        );
      }
    },
  },
  {
    name: 'hashFiles',
    min: 1,
    max: Infinity,
    needs: 'workspace',
    call: (args, ctx) => {
      if (!ctx.hashFiles) throw new ExpressionError('hashFiles() needs a checkout; it works in steps');
      return ctx.hashFiles(args.map(toText));
    },
  },
  {
    name: 'success',
    min: 0,
    max: 0,
    needs: 'status',
    call: (_a, ctx) => status(ctx).success && !status(ctx).cancelled,
  },
  { name: 'failure', min: 0, max: 0, needs: 'status', call: (_a, ctx) => status(ctx).failure },
  { name: 'cancelled', min: 0, max: 0, needs: 'status', call: (_a, ctx) => status(ctx).cancelled },
  { name: 'always', min: 0, max: 0, needs: 'status', call: () => true },
];

/** The functions GitHub documents, by lower-case name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map(
  defs.map((d) => [d.name.toLowerCase(), d]),
);

export const STATUS_FUNCTIONS = ['success', 'failure', 'cancelled', 'always'] as const;
