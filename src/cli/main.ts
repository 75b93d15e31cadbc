import { existsSync } from 'node:fs';
import { loadConfig, type Config } from '../config.ts';
import { PushciError, UsageError } from '../errors.ts';
import type { AnyCommand, Command } from './command.ts';
import { approve } from './commands/approve.ts';
import { artifacts } from './commands/artifacts.ts';
import { builds } from './commands/builds.ts';
import { cancel } from './commands/cancel.ts';
import { doctor } from './commands/doctor.ts';
import { endpoints } from './commands/endpoints.ts';
import { hooks } from './commands/hooks.ts';
import { init } from './commands/init.ts';
import { logs } from './commands/logs.ts';
import { notifyTest } from './commands/notify-test.ts';
import { recover } from './commands/recover.ts';
import { redeliver } from './commands/redeliver.ts';
import { rerun } from './commands/rerun.ts';
import { run } from './commands/run.ts';
import { schema } from './commands/schema.ts';
import { serve } from './commands/serve.ts';
import { trigger } from './commands/trigger.ts';
import { validate } from './commands/validate.ts';
import { worker } from './commands/worker.ts';
import { didYouMean } from './did-you-mean.ts';
import { commandHelp, globalHelp, settingsHelp } from './help.ts';
import { parseCommandLine } from './parse-command-line.ts';
import { VERSION } from '../version.ts';

/** Every command, in the order `pushci --help` and the README list them. */
export const COMMANDS: readonly AnyCommand[] = [
  serve,
  worker,
  validate,
  schema,
  init,
  doctor,
  run,
  hooks,
  notifyTest,
  builds,
  logs,
  trigger,
  approve,
  cancel,
  rerun,
  redeliver,
  artifacts,
  endpoints,
  recover,
];

const byName = new Map(COMMANDS.map((c) => [c.name, c]));

/** A `.env` in the working directory, read before the configuration; variables already set win. */
function loadDotEnv(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
}

/** `pushci help [command|settings]`. */
async function help(topic: string | undefined): Promise<number> {
  if (topic === undefined) console.log(globalHelp(COMMANDS));
  else if (topic === 'settings') console.log(settingsHelp());
  else {
    const command = byName.get(topic);
    if (!command) throw unknownCommand(topic);
    if ('raw' in command) return command.raw(['--help']);
    console.log(commandHelp(command));
  }
  return 0;
}

function unknownCommand(name: string): UsageError {
  const meant = didYouMean(name, [...byName.keys(), 'help']);
  return new UsageError(
    `pushci: unknown command "${name}"${meant ? `; did you mean pushci ${meant}?` : ''} (pushci --help lists them)`,
  );
}

/** Runs one command line; returns the exit code (2 for a wrong command line). */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') return help(undefined);
  if (name === 'help') return help(rest[0]);
  if (name === '--version' || name === '-v') {
    console.log(`pushci ${VERSION}`);
    return 0;
  }
  if (name.startsWith('-'))
    throw new UsageError(`pushci: give a command first, then its flags (pushci --help lists them)`);
  const command = byName.get(name);
  if (!command) throw unknownCommand(name);
  if ('raw' in command) {
    if (!rest.includes('--help') && !rest.includes('-h')) loadDotEnv();
    return command.raw(rest);
  }
  const { values, args } = parseCommandLine(command, rest);
  if (values.help) {
    console.log(commandHelp(command));
    return 0;
  }
  return (command as Command).run({ values, args, config: configOnce(values) });
}

function configOnce(values: Record<string, unknown>): () => Readonly<Config> {
  let config: Readonly<Config> | null = null;
  return () => {
    if (config) return config;
    loadDotEnv();
    config = loadConfig(process.env, values as Record<string, string | boolean>);
    return config;
  };
}

/** A failure pushci knows how to explain: one line, no stack. */
function knownFailure(err: unknown): string | null {
  if (err instanceof PushciError) return err.message;
  const code = (err as { code?: unknown } | null)?.code;
  // A command that parses its own flags (artifacts) and met one it does not know.
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return (err as Error).message;
  // Files the user named (validate's dir, schema's file) that cannot be read or written.
  if (typeof code === 'string' && ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EPERM'].includes(code))
    return (err as Error).message;
  return null;
}

/** The process's entry: runs the command line and exits with its code once stdout has drained. */
export function main(argv: string[]): void {
  runCli(argv).then(
    (code) => exit(code),
    (err: unknown) => {
      const known = knownFailure(err);
      if (known !== null) {
        console.error(known.startsWith('pushci') || known.startsWith('usage:') ? known : `pushci: ${known}`);
        const usage =
          err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
        exit(usage ? 2 : 1);
        return;
      }
      console.error(err);
      exit(1);
    },
  );
}

/** Exits once what was written to stdout and stderr reached them (a pipe to a slow reader included). */
function exit(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
