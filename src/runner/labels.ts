import { arch, platform } from 'node:os';
import { ConfigError } from '../errors.ts';

/** GitHub-hosted runner names and what they mean on a pushci worker. */
const BUILT_IN: Array<[RegExp, string[]]> = [
  [/^ubuntu-(latest|\d+\.\d+)(-arm)?$/, ['linux']],
  [/^macos-(latest|\d+)(-large|-xlarge)?$/, ['macos']],
  [/^windows-(latest|\d+)$/, ['windows']],
];

/** The labels a worker offers: PUSHCI_RUNNER_LABELS, or self-hosted plus its OS and architecture. */
export function workerLabels(configured: readonly string[]): string[] {
  if (configured.length > 0) return [...new Set(configured.map((l) => l.toLowerCase()))];
  const os = platform() === 'darwin' ? 'macos' : platform() === 'win32' ? 'windows' : platform();
  return ['self-hosted', os, arch()];
}

/** `name=label+label` entries (PUSHCI_RUNS_ON_ALIASES), checked once when a worker starts. */
export function parseAliases(entries: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of entries) {
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(e.trim());
    if (!m) throw new ConfigError(`PUSHCI_RUNS_ON_ALIASES: "${e}" is not name=label+label`);
    out.set(m[1]!.toLowerCase(), m[2]!.toLowerCase().split('+').filter(Boolean));
  }
  return out;
}

/** The labels a job's `runs-on` asks for, after the alias table (configured entries first). */
export function requiredLabels(runsOn: readonly string[], aliases: ReadonlyMap<string, string[]>): string[] {
  const out = new Set<string>();
  for (const raw of runsOn) {
    const name = raw.toLowerCase();
    const mapped = aliases.get(name) ?? BUILT_IN.find(([re]) => re.test(name))?.[1] ?? [name];
    for (const l of mapped) out.add(l);
  }
  return [...out];
}
