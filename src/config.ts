import { resolve } from 'node:path';
import { ConfigError } from './errors.ts';
import type { ForgeSettingRow } from './forges/registry.ts';
import { SETTINGS, type Setting } from './settings.ts';

/** What each kind of setting is parsed to. */
interface KindValue {
  string: string;
  int: number;
  bool: boolean;
  list: string[];
  duration: number;
  size: number;
}

/** A row's value: one of its `values`, else its kind's type, `undefined` too when it has no default. */
type ValueOf<S extends Setting> = S extends { values: readonly (infer V)[] }
  ? V
  : S['kind'] extends 'list'
    ? string[]
    : KindValue[S['kind']] | (S['default'] extends string ? never : undefined);

/** A row whose key the type checker knows (not the forges' spread in as `Setting`: ForgeSettingRow has them). */
type Known<S> = S extends Setting ? (string extends S['key'] ? never : S) : never;
type Row = ForgeSettingRow | Known<(typeof SETTINGS)[number]>;

/** What `loadConfig` works out beyond parsing a row. */
interface Derived {
  /** Default `http://localhost:<PORT>`, no trailing slash. */
  publicUrl: string;
  /** Default `http://localhost:<PORT>`, no trailing slash. */
  serverUrl: string;
  /** Delay in ms before each delivery attempt (PUSHCI_NOTIFY_RETRY_SCHEDULE); its length is the number of attempts. */
  notifyRetrySchedule: number[];
  /** The server's environment, for `${{ env.NAME }}` and `${{ secrets.NAME }}` in pipeline files. */
  env: Readonly<Record<string, string>>;
}

/** The whole configuration, read once at the edge and passed down: a field per row of the table. */
export type Config = Omit<{ [S in Row as S['key']]: ValueOf<S> }, keyof Derived> & Derived;

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i;
const SIZE_UNIT: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses `512M`, `8G`, `8GiB` or a bare number of bytes (binary units). */
export function parseSize(text: string): number {
  const m = SIZE.exec(text.trim());
  if (!m) throw new ConfigError(`"${text}" is not a size (use e.g. 512M, 8G or bytes)`);
  return Math.round(Number(m[1]) * SIZE_UNIT[(m[2] ?? '').charAt(0).toLowerCase()]!);
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `250ms`, `5s`, `5m`, `2h`, `7d` or a bare number of milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new ConfigError(`"${text}" is not a duration (use e.g. 500ms, 5s, 5m, 2h)`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!);
}

function convert(s: Setting, raw: string): unknown {
  const where = `${s.env} (--${s.flag})`;
  switch (s.kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${where} must be a whole number, got "${raw}"`);
      return Number(raw);
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['', '0', 'false', 'no', 'off'].includes(v)) return false;
      throw new ConfigError(`${where} must be true or false, got "${raw}"`);
    }
    case 'duration':
      return parseDuration(raw);
    case 'size':
      try {
        return parseSize(raw);
      } catch (e) {
        throw new ConfigError(`${where}: ${(e as Error).message}`);
      }
    case 'list':
      return raw
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
  }
}

/**
 * Builds the configuration from the environment and CLI flags (flags win). The only place that reads
 * the environment; tests pass their own.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  flags: Record<string, string | boolean | undefined> = {},
): Readonly<Config> {
  const settings: readonly Setting[] = SETTINGS;
  const out: Record<string, unknown> = {};
  for (const s of settings) {
    const flag = flags[s.flag];
    const raw = flag === undefined ? (env[s.env] ?? s.default) : String(flag);
    out[s.key] = raw === undefined ? (s.kind === 'list' ? [] : undefined) : convert(s, raw);
  }
  const c = out as unknown as Config;
  if (c.port > 65535) throw new ConfigError(`PORT must be at most 65535, got ${c.port}`);
  if (c.concurrency < 1) throw new ConfigError('PUSHCI_CONCURRENCY must be at least 1');
  if (c.maxIntakeBytes < c.maxBodyBytes)
    throw new ConfigError(
      `PUSHCI_MAX_INTAKE_BYTES (${c.maxIntakeBytes}) must be at least PUSHCI_MAX_BODY_BYTES (${c.maxBodyBytes}), or the largest body could never be read`,
    );
  if (c.notifyConcurrency < 1) throw new ConfigError('PUSHCI_NOTIFY_CONCURRENCY must be at least 1');
  if (c.notifyEndpointConcurrency < 1)
    throw new ConfigError('PUSHCI_NOTIFY_ENDPOINT_CONCURRENCY must be at least 1');
  for (const s of settings) {
    const v = out[s.key];
    if (s.values && !s.values.includes(v as string))
      throw new ConfigError(
        `${s.env} must be ${s.values.slice(0, -1).join(', ')} or ${s.values.at(-1)}, got "${v}"`,
      );
  }
  if (c.actionsNode !== undefined && !c.actionsNode.startsWith('/'))
    throw new ConfigError(`PUSHCI_ACTIONS_NODE must be an absolute path, got "${c.actionsNode}"`);
  c.actionsUrl = c.actionsUrl.replace(/\/+$/, '');
  c.pipelinesDir = resolve(c.pipelinesDir);
  c.dataDir = resolve(c.dataDir);
  c.publicUrl = (c.publicUrl ?? `http://localhost:${c.port}`).replace(/\/+$/, '');
  c.serverUrl = (c.serverUrl ?? `http://localhost:${c.port}`).replace(/\/+$/, '');
  c.notifyRetrySchedule = (out.notifyRetrySchedule as string[]).map(parseDuration);
  if (c.notifyUrls.length > 0 && c.notifySecrets.length === 0) {
    throw new ConfigError(
      'PUSHCI_NOTIFY_URLS is set but PUSHCI_NOTIFY_SECRET is not: set a whsec_ secret to sign with',
    );
  }
  if (c.notifySecrets.length > 2)
    throw new ConfigError('PUSHCI_NOTIFY_SECRET takes at most two secrets (during a rotation)');
  for (const s of c.notifySecrets)
    if (!s.startsWith('whsec_')) throw new ConfigError('PUSHCI_NOTIFY_SECRET must be whsec_ secrets');
  if (c.notifyRetrySchedule.length === 0)
    throw new ConfigError('PUSHCI_NOTIFY_RETRY_SCHEDULE needs at least one entry');
  const copy: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) copy[k] = v;
  c.env = Object.freeze(copy);
  return Object.freeze(c);
}
