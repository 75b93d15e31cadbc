#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SETTINGS, loadConfig, parseDuration } from './config.ts';
import { GithubClient } from './forge-api/github-client.ts';
import { recoverDeliveries } from './forge-api/recover.ts';
import { ConfigError, PushciError } from './errors.ts';
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
  pushci recover [--since 2h] [--repo owner/name]... [--hook-id N] [--json]
                                       ask GitHub to redeliver pushci's failed deliveries (GitHub never
                                       retries by itself); repositories default to the GitHub pipelines'

Flags (each mirrors an environment variable):
${SETTINGS.map((s) => `  --${s.flag.padEnd(26)} ${s.env}: ${s.doc}`).join('\n')}

A .env file in the working directory is read first; variables already set win.`;

async function main(argv: string[]): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    help: { type: 'boolean' },
    'no-worker': { type: 'boolean' },
    json: { type: 'boolean' },
    since: { type: 'string' },
    repo: { type: 'string', multiple: true },
    'hook-id': { type: 'string' },
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
    case 'recover': {
      if (!config.githubToken)
        throw new ConfigError(
          'pushci recover needs GITHUB_TOKEN (a token that can read and redeliver repository hooks)',
        );
      const since = new Date(Date.now() - parseDuration(String(values.since ?? '2h')));
      let repos = (values.repo as string[] | undefined) ?? [];
      if (repos.length === 0) {
        const { pipelines } = await loadPipelines(config.pipelinesDir, config.env);
        repos = [
          ...new Set(
            pipelines
              .filter((p) => (p.forge ?? 'github') === 'github' && !/[*?[{]/.test(p.repository))
              .map((p) => p.repository),
          ),
        ];
      }
      if (repos.length === 0) throw new ConfigError('no repository to recover: give --repo owner/name');
      const client = new GithubClient(config.githubApiUrl, config.githubToken);
      const hookUrl = `${config.publicUrl}/webhooks/github`;
      const hookId = values['hook-id'] === undefined ? undefined : Number(values['hook-id']);
      const reports = [];
      for (const repo of repos) reports.push(await recoverDeliveries(client, repo, hookUrl, since, hookId));
      if (values.json) console.log(JSON.stringify(reports, null, 2));
      else {
        for (const r of reports) {
          if (r.problem) console.log(`${r.repository}: ${r.problem}`);
          else {
            console.log(
              `${r.repository}: ${r.redelivered.length} failed delivery(ies) since ${since.toISOString()} asked to be delivered again`,
            );
            for (const d of r.redelivered)
              console.log(
                `  ${d.guid} ${d.event} (last answer ${d.last_status || 'none'} at ${d.delivered_at})`,
              );
          }
        }
      }
      return reports.some((r) => r.problem) ? 1 : 0;
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
