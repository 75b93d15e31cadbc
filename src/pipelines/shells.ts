/**
 * The `shell:` names GitHub Actions knows, as command lines. `{0}` is the script file. Anything else is
 * taken as a command line of its own.
 */
export const SHELLS: Readonly<Record<string, string>> = {
  bash: 'bash --noprofile --norc -eo pipefail {0}',
  sh: 'sh -e {0}',
  python: 'python3 {0}',
  node: 'node {0}',
  pwsh: 'pwsh -NoLogo -NoProfile -NonInteractive -File {0}',
  powershell: 'pwsh -NoLogo -NoProfile -NonInteractive -File {0}',
};

/** The command line of a `shell:` value. */
export function shellCommand(shell: string): string {
  return SHELLS[shell.trim()] ?? shell;
}

/** Whether the shell is a POSIX shell, where `${{ }}` can become a variable reference. */
export function isPosixShell(command: string | null): boolean {
  if (command === null) return true;
  const first = command.trim().split(/\s+/)[0] ?? '';
  return /^(?:.*\/)?(?:ba|da|k|z)?sh$/.test(first);
}

/** File extension the script file needs (pwsh runs only .ps1 files). */
export function scriptExtension(command: string | null): string {
  const first = (command ?? '').trim().split(/\s+/)[0] ?? '';
  const base = first.split('/').at(-1) ?? '';
  if (base === 'pwsh' || base === 'powershell') return '.ps1';
  if (base.startsWith('python')) return '.py';
  if (base === 'node') return '.js';
  return '.sh';
}
