/**
 * `${{ env.NAME }}` and `${{ secrets.NAME }}` references. They are resolved from the server's
 * environment (secrets from `PUSHCI_SECRET_<NAME>`), never from a payload, and an unknown name is an
 * error, not an empty string.
 */

import { settingEnvProblem } from './settings-env.ts';

const REF = /\$\{\{\s*([^}]*?)\s*\}\}/g;
const SUPPORTED = /^(env|secrets)\.([A-Za-z_][A-Za-z0-9_]*)$/;

export const SECRET_ENV_PREFIX = 'PUSHCI_SECRET_';

export interface Reference {
  kind: 'env' | 'secrets';
  name: string;
  /** Offset of `${{` in the string. */
  offset: number;
}

/** Finds references; unsupported expressions come back as `{ error }` with their offset. */
export function findReferences(text: string): Array<Reference | { error: string; offset: number }> {
  const out: Array<Reference | { error: string; offset: number }> = [];
  for (const m of text.matchAll(REF)) {
    const inner = m[1] ?? '';
    const s = SUPPORTED.exec(inner);
    if (s) out.push({ kind: s[1] as 'env' | 'secrets', name: s[2]!, offset: m.index });
    else
      out.push({
        error: `unsupported expression "\${{ ${inner} }}": only \${{ env.NAME }} and \${{ secrets.NAME }} are allowed`,
        offset: m.index,
      });
  }
  return out;
}

/** The server-side variable a reference reads. */
export function variableFor(ref: Pick<Reference, 'kind' | 'name'>): string {
  return ref.kind === 'secrets' ? SECRET_ENV_PREFIX + ref.name : ref.name;
}

export class UnresolvedReferenceError extends Error {}

/**
 * Substitutes references. `secretValues` collects what came from `secrets.*`, so logs can mask them.
 * Throws UnresolvedReferenceError for a missing variable (validation normally caught it earlier).
 */
export function resolveTemplate(
  text: string,
  env: Readonly<Record<string, string>>,
  secretValues?: Set<string>,
): string {
  return text.replace(REF, (whole, inner: string) => {
    const s = SUPPORTED.exec(inner.trim());
    if (!s) throw new UnresolvedReferenceError(`unsupported expression ${whole}`);
    // Checked again here, not only at validation: a template may come from somewhere else (a queued job).
    const setting = s[1] === 'env' ? settingEnvProblem(s[2]!) : null;
    if (setting) throw new UnresolvedReferenceError(setting);
    const variable = variableFor({ kind: s[1] as 'env' | 'secrets', name: s[2]! });
    const value = env[variable];
    if (value === undefined)
      throw new UnresolvedReferenceError(`${whole} is not set on this server (${variable})`);
    if (s[1] === 'secrets' && value.length > 0) secretValues?.add(value);
    return value;
  });
}
