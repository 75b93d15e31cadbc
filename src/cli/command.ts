import type { Config } from '../config.ts';

/** A flag of one command, as its help shows it. */
export interface Flag {
  name: string;
  type: 'string' | 'boolean';
  short?: string;
  /** May be given more than once (values collect in order). */
  multiple?: boolean;
  /** What the value looks like in the help (`N`, `owner/name`). */
  value?: string;
  doc: string;
}

/** What a command gets: its flags and positionals, and the configuration (read on first use). */
export interface CommandInput {
  values: Record<string, string | boolean | string[] | undefined>;
  args: string[];
  /** The configuration from the environment, `.env` and the setting flags; loaded once, on first call. */
  config(): Readonly<Config>;
}

/** One `pushci <name>` command: its flags, its help, and what it does. Returns the exit code. */
export interface Command {
  name: string;
  /** One line for `pushci --help` and the README's CLI table. */
  summary: string;
  /** What follows `pushci <name>` in the usage line, e.g. `<build> [--job J] [--follow]`. */
  usage: string;
  /** More to say in `pushci <name> --help` (lines). */
  details?: string;
  flags: readonly Flag[];
  /** Whether every setting's flag applies (`--port`, `--redis-url`, …): the commands that load the configuration. */
  settings: boolean;
  run(input: CommandInput): Promise<number>;
}

/** A command that parses its own arguments (it has sub-commands with flags of their own). */
export interface RawCommand {
  name: string;
  summary: string;
  usage: string;
  /** Gets everything after `pushci <name>`; prints its own help. */
  raw(argv: string[]): Promise<number>;
}

export type AnyCommand = Command | RawCommand;

/** Flags every command that talks to a running server takes. */
export const JSON_FLAG: Flag = { name: 'json', type: 'boolean', doc: 'Print JSON instead of text.' };
