/**
 * Values and GitHub's coercion rules (https://docs.github.com/actions/reference/evaluate-expressions-in-workflows-and-actions):
 * loose equality that converts mismatched types to numbers, case-insensitive string comparison,
 * falsy = false, 0, -0, '', null and NaN.
 */
export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

const filtered = new WeakSet<Value[]>();

/** An array made by a `*` filter: property access on it maps over its items. */
export function filteredArray(items: Value[]): Value[] {
  filtered.add(items);
  return items;
}

export function isFiltered(v: Value): v is Value[] {
  return Array.isArray(v) && filtered.has(v);
}

export function isObject(v: Value): v is { [key: string]: Value } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function toBoolean(v: Value): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  return true;
}

/** Number conversion: null 0, booleans 1/0, strings trimmed and parsed (empty 0; hex, octal, Infinity), else NaN. */
export function toNumber(v: Value): number {
  if (v === null) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const s = v.trim();
    if (s === '') return 0;
    if (/^0x[0-9a-f]+$/i.test(s)) return parseInt(s.slice(2), 16);
    if (/^0o[0-7]+$/i.test(s)) return parseInt(s.slice(2), 8);
    if (/^[+-]?Infinity$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(s)) return Number(s);
    return NaN;
  }
  return NaN;
}

/** String conversion as GitHub does it: null is '', arrays and objects are 'Array' and 'Object'. */
export function toText(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '0' : String(v);
  if (typeof v === 'string') return v;
  return Array.isArray(v) ? 'Array' : 'Object';
}

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

function kindOf(v: Value): Kind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as Kind;
}

const upper = (s: string) => s.toUpperCase();

/** `==`: same types compare directly (strings ignoring case, arrays/objects by identity); otherwise as numbers. */
export function looseEquals(a: Value, b: Value): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === kb) {
    if (ka === 'string') return upper(a as string) === upper(b as string);
    return a === b; // NaN !== NaN, as GitHub has it
  }
  if (ka === 'array' || ka === 'object' || kb === 'array' || kb === 'object') return false;
  return toNumber(a) === toNumber(b);
}

/** `<` and friends: strings ignoring case, else numbers; NaN and arrays/objects compare false. */
export function compare(op: '<' | '<=' | '>' | '>=', a: Value, b: Value): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === 'array' || ka === 'object' || kb === 'array' || kb === 'object') return false;
  let x: number | string;
  let y: number | string;
  if (ka === 'string' && kb === 'string') {
    x = upper(a as string);
    y = upper(b as string);
  } else {
    x = toNumber(a);
    y = toNumber(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return false;
  }
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}

/** Property lookup: exact key first, then ignoring case (GitHub's contexts are case-insensitive). */
export function getProperty(v: Value, name: string): Value {
  if (isFiltered(v))
    return filteredArray(
      v.flatMap((item) => {
        const r = getProperty(item, name);
        return r === null ? [] : [r];
      }),
    );
  if (!isObject(v)) return null;
  if (Object.hasOwn(v, name)) return v[name]!;
  const lower = name.toLowerCase();
  for (const k of Object.keys(v)) if (k.toLowerCase() === lower) return v[k]!;
  return null;
}

/** `a[i]`: arrays by integer index, objects by key; anything else is null. */
export function getIndex(v: Value, index: Value): Value {
  if (isFiltered(v))
    return filteredArray(
      v.flatMap((item) => {
        const r = getIndex(item, index);
        return r === null ? [] : [r];
      }),
    );
  if (Array.isArray(v)) {
    const n = typeof index === 'string' ? toNumber(index) : typeof index === 'number' ? index : NaN;
    if (!Number.isInteger(n) || n < 0 || n >= v.length) return null;
    return v[n]!;
  }
  if (isObject(v)) return getProperty(v, toText(index));
  return null;
}

/** `a.*`: the values of an object or the items of an array. */
export function star(v: Value): Value {
  if (isFiltered(v))
    return filteredArray(
      v.flatMap((item) => (Array.isArray(item) ? item : isObject(item) ? Object.values(item) : [])),
    );
  if (Array.isArray(v)) return filteredArray([...v]);
  if (isObject(v)) return filteredArray(Object.values(v));
  return filteredArray([]);
}

/** Converts any JSON-ish value (from a payload or JSON.parse) into a Value. */
export function fromPlain(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(fromPlain);
  if (typeof v === 'object') {
    const out: { [k: string]: Value } = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromPlain(x);
    return out;
  }
  return null;
}
