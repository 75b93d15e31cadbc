import { SETTINGS } from '../settings.ts';
import type { AnyCommand, Command } from './command.ts';
import { commandFlags } from './parse-command-line.ts';

/** Lines of text wrapped at `width`, each after `indent` spaces. */
function wrap(text: string, indent: number, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => ' '.repeat(indent) + l);
}

/** `pushci --help`: every command with its one line, from the command table. */
export function globalHelp(commands: readonly AnyCommand[]): string {
  return [
    'pushci: a small self-hosted CI trigger server',
    '',
    'Usage: pushci <command> [flags]',
    '',
    'Commands:',
    ...commands.flatMap((c) => {
      const [first = '', ...more] = wrap(c.summary, 0, 76);
      return [`  ${`pushci ${c.name}`.padEnd(22)}${first}`, ...more.map((l) => ' '.repeat(24) + l)];
    }),
    '',
    'pushci <command> --help (or -h) shows what a command takes; pushci help settings lists the setting',
    'flags (each mirrors an environment variable). A .env file in the working directory is read first;',
    'variables already set win. pushci --version prints the version.',
  ].join('\n');
}

/** `pushci help settings`: every setting's flag and environment variable. */
export function settingsHelp(): string {
  return [
    'Settings (every command that loads the configuration takes these flags; flags win over the environment):',
    '',
    ...SETTINGS.flatMap((s) => [
      `  --${s.flag}${s.kind === 'bool' ? '' : ' VALUE'}  (${s.env}${s.default !== undefined ? `, default ${s.default}` : ''})`,
      ...wrap(s.doc, 6),
    ]),
  ].join('\n');
}

/** `pushci <name> --help`: its usage, what it does, and its own flags. */
export function commandHelp(command: Command): string {
  const own = commandFlags(command).filter((f) => command.flags.includes(f) || f.name === 'help');
  const flagLines = own.flatMap((f) => {
    const name = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`;
    const doc = wrap(f.doc + (f.multiple ? ' (may be repeated)' : ''), 0, 70);
    return name.length <= 24
      ? [`  ${name.padEnd(26)}${doc[0] ?? ''}`, ...doc.slice(1).map((l) => ' '.repeat(28) + l)]
      : [`  ${name}`, ...doc.map((l) => ' '.repeat(28) + l)];
  });
  return [
    `Usage: pushci ${command.name}${command.usage ? ` ${command.usage}` : ''}`,
    '',
    ...wrap(command.summary, 0),
    ...(command.details ? ['', command.details] : []),
    '',
    'Flags:',
    ...flagLines,
    ...(command.settings
      ? [
          '',
          'It also takes every setting as a flag (--port, --redis-url, …): pushci help settings lists them.',
        ]
      : []),
  ].join('\n');
}
