import { parseArgs } from 'node:util';
import { SETTINGS } from '../settings.ts';
import { UsageError } from '../errors.ts';
import type { Command, Flag } from './command.ts';
import { didYouMean } from './did-you-mean.ts';

type ParseOptions = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** Every flag a command takes: its own, --help/-h, and the settings' when it loads the configuration. */
export function commandFlags(command: Command): Flag[] {
  const own: Flag[] = [
    ...command.flags,
    { name: 'help', short: 'h', type: 'boolean', doc: 'Show this help.' },
  ];
  if (!command.settings) return own;
  const names = new Set(own.map((f) => f.name));
  const settings = SETTINGS.filter((s) => !names.has(s.flag)).map((s): Flag => ({
    name: s.flag,
    type: s.kind === 'bool' ? 'boolean' : 'string',
    doc: `${s.env}: ${s.doc}`,
  }));
  return [...own, ...settings];
}

/** Parses one command's arguments strictly; an unknown or malformed flag is a UsageError that says what was meant. */
export function parseCommandLine(
  command: Command,
  argv: string[],
): { values: Record<string, string | boolean | string[] | undefined>; args: string[] } {
  const flags = commandFlags(command);
  const options: ParseOptions = {};
  for (const f of flags)
    options[f.name] = {
      type: f.type,
      ...(f.short ? { short: f.short } : {}),
      ...(f.multiple ? { multiple: true } : {}),
    };
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | string[] | undefined>, args: positionals };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw err;
    const help = `see pushci ${command.name} --help`;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec((err as Error).message)?.[1];
    if (unknown) {
      const meant = didYouMean(
        unknown.replace(/^-+/, ''),
        flags.map((f) => f.name),
      );
      throw new UsageError(
        `pushci ${command.name}: unknown flag ${unknown}${meant ? `; did you mean --${meant}?` : ''} (${help})`,
      );
    }
    const missing = /Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(
      (err as Error).message,
    )?.[1];
    if (missing) throw new UsageError(`pushci ${command.name}: ${missing} needs a value (${help})`);
    const noValue = /Option '(--[\w-]+)' does not take an argument/.exec((err as Error).message)?.[1];
    if (noValue) throw new UsageError(`pushci ${command.name}: ${noValue} takes no value (${help})`);
    throw new UsageError(`pushci ${command.name}: ${(err as Error).message} (${help})`);
  }
}
