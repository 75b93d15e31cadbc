/** What a redacted value is logged as. */
export const CENSOR = '[redacted]';

// Top-level keys, and the same keys one level down (`*.secret`), that may hold a secret.
const SECRET_KEYS = ['secret', 'token', 'env'];
const SECRET_HEADERS = [
  'authorization',
  'x-gitlab-token',
  'x-hub-signature-256',
  'x-hub-signature',
  'webhook-signature',
];

/**
 * A log line's fields with secrets replaced by `[redacted]`: `secret`, `token` and `env`, the same
 * keys of any object one level down, and the signature and token headers of `headers`. The object
 * given is never changed; one without secrets is returned as it is. (pino's own `redact` with wildcard
 * paths sends every value of every line through its redactor: a third of the cost of the intake's
 * "build created" line.)
 */
export function redactSecrets<T extends object>(fields: T): T {
  let out: Record<string, unknown> | null = null;
  const set = (key: string, value: unknown) => {
    out ??= { ...(fields as Record<string, unknown>) };
    out[key] = value;
  };
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    if (SECRET_KEYS.includes(key)) {
      set(key, CENSOR);
      continue;
    }
    const value = (fields as Record<string, unknown>)[key];
    if (value === null || typeof value !== 'object') continue;
    const names = key === 'headers' ? [...SECRET_KEYS, ...SECRET_HEADERS] : SECRET_KEYS;
    if (!names.some((n) => Object.hasOwn(value, n))) continue;
    // An Error keeps its message and stack (not own enumerable fields, so a spread would drop them).
    const copy: Record<string, unknown> =
      value instanceof Error
        ? { type: value.name, message: value.message, stack: value.stack, ...(value as object) }
        : { ...(value as Record<string, unknown>) };
    for (const n of names) if (Object.hasOwn(copy, n)) copy[n] = CENSOR;
    set(key, copy);
  }
  return (out ?? fields) as T;
}
