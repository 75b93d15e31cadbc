#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SETTINGS, loadConfig } from './config.ts';
import { PushciError } from './errors.ts';
import { createLogger } from './log.ts';
import { formatDiagnostic } from './pipelines/diagnostic.ts';
import { loadPipelines } from './pipelines/load.ts';
import { pipelineJsonSchema } from './pipelines/schema.ts';
import { start } from './server.ts';

const USAGE = `pushci: a small self-hosted CI trigger server

Usage:
  pushci serve [--no-worker] [flags]   HTTP receiver and API, plus workers unless --no-worker
  pushci worker [flags]                workers only (run more of them on other machines)
  pushci validate [dir]                check pipeline files; prints file:line:col: message, exit 1 on problems
  pushci schema [file]                 print (or write) the pipeline JSON Schema for editors

Flags (each mirrors an environment variable):
${SETTINGS.map((s) => `  --${s.flag.padEnd(26)} ${s.env}: ${s.doc}`).join('\n')}

A .env file in the working directory is read first; variables already set win.`;

async function main(argv: string[]): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    help: { type: 'boolean' },
    'no-worker': { type: 'boolean' },
  };
  for (const s of SETTINGS) options[s.flag] = { type: s.kind === 'bool' ? 'boolean' : 'string' };
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const [command = 'help', ...rest] = positionals;
  if (values.help || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig(process.env, values as Record<string, string | boolean>);

  switch (command) {
    case 'validate': {
      const dir = rest[0] ?? config.pipelinesDir;
      const { pipelines, diagnostics } = await loadPipelines(dir, config.env);
      for (const d of diagnostics) console.log(formatDiagnostic(d));
      if (diagnostics.length > 0) {
        console.error(`${diagnostics.length} problem(s) in ${dir}`);
        return 1;
      }
      console.log(`${pipelines.length} pipeline(s) valid: ${pipelines.map((p) => p.name).join(', ')}`);
      return 0;
    }
    case 'schema': {
      const text = `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
      if (rest[0]) await writeFile(rest[0], text);
      else process.stdout.write(text);
      return 0;
    }
    case 'serve':
    case 'worker': {
      const log = createLogger(config.logLevel);
      const running = await start(config, {
        http: command === 'serve',
        worker: command === 'worker' || !values['no-worker'],
        log,
      });
      await new Promise<void>((resolve) => {
        // Persistent handlers, not once(): execa's exit hook re-raises a signal it sees no other listener
        // for, which would kill us mid-drain. A second signal means "now".
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            log.warn({ signal }, 'second signal: exiting now');
            process.exit(1);
          }
          stopping = true;
          log.info({ signal }, 'stopping: no new jobs; running jobs get PUSHCI_SHUTDOWN_GRACE_MS to finish');
          resolve();
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      await running.close();
      log.flush();
      return 0;
    }
    default:
      console.error(`pushci: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (
      err instanceof PushciError ||
      (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      console.error(`pushci: ${err.message}`);
      process.exit(1);
    }
    console.error(err);
    process.exit(1);
  },
);
