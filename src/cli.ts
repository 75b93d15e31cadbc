#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SETTINGS, loadConfig, parseDuration } from './config.ts';
import { GithubClient } from './forges/github/api-client.ts';
import { githubRepositories, recoverDeliveries } from './forges/github/recover.ts';
import { FORGE_LIST, forgeNamed, isForgeName } from './forges/registry.ts';
import { createAddressGuard } from './notify/ssrf.ts';
import { sendTestEvents } from './notify/test-events.ts';
import { doctor } from './onboarding/doctor.ts';
import { init, type InitAnswers } from './onboarding/init.ts';
import { createInterface } from 'node:readline/promises';
import { ApiClient } from './api-client.ts';
import { endpointsCommand } from './cli/commands/endpoints.ts';
import { artifactsCommand } from './cli/commands/artifacts.ts';
import { followBuild } from './follow.ts';
import type { BuildView } from './model.ts';
import { ConfigError, PushciError } from './errors.ts';
import { createLogger } from './log.ts';
import { formatDiagnostic } from './pipelines/diagnostic.ts';
import { loadPipelines } from './pipelines/load.ts';
import { pipelineJsonSchema } from './pipelines/schema.ts';
import { start } from './server.ts';

/** How long stopping may take beyond PUSHCI_SHUTDOWN_GRACE_MS before the process exits regardless. */
const STOP_MARGIN_MS = 5000;

const FORGE_CHOICES = FORGE_LIST.map((f) => f.name).join('|');
const HOOK_FORGES = FORGE_LIST.filter((f) => f.hooks).map((f) => f.name);

const USAGE = `pushci: a small self-hosted CI trigger server

Usage:
  pushci serve [--no-worker] [flags]   HTTP receiver and API, plus workers unless --no-worker
  pushci worker [flags]                workers only (run more of them on other machines)
  pushci validate [dir]                check pipeline files; prints file:line:col: message, exit 1 on problems
  pushci schema [file]                 print (or write) the pipeline JSON Schema for editors
  pushci init [--yes] [--forge ${FORGE_CHOICES}] [--repo owner/name] [--branches main,...] [--public-url URL]
                                       write a pipeline file and a .env with fresh secrets; print the
                                       values to paste into the forge's webhook settings
  pushci hooks create|check <owner/repo> [--forge ${HOOK_FORGES.join('|')}]
                                       register pushci's webhook through the forge API, or check it
  pushci notify-test <url> --secret whsec_...
                                       send a signed example of every outbound event to a receiver
  pushci doctor                        check Redis, git, pipelines, secrets and the public URL
  pushci builds [--pipeline P] [--branch B] [--status S] [--limit N] [--json]
  pushci logs <build> [--job J] [--follow]
  pushci trigger <pipeline> --branch B | --tag T [--sha S] [--follow]
  pushci approve <build> [--as NAME]   let a fork's pull request build run (recorded with NAME, default $USER)
  pushci redeliver <delivery-id>
  pushci artifacts <build> [<name> [--output FILE|-] [--extract DIR]]
                                       talk to a running server (PUSHCI_URL, PUSHCI_API_TOKEN)
  pushci endpoints add|list|show|rm|rotate|pause|resume|test ...
                                       register and watch the endpoints that receive build results
                                       (pushci endpoints --help)
  pushci recover [--since 2h] [--repo owner/name]... [--hook-id N] [--json]
                                       ask GitHub to redeliver pushci's failed deliveries (GitHub never
                                       retries by itself); repositories default to the GitHub pipelines'

Flags (each mirrors an environment variable):
${SETTINGS.map((s) => `  --${s.flag.padEnd(26)} ${s.env}: ${s.doc}`).join('\n')}

A .env file in the working directory is read first; variables already set win.`;

/** Answers for init: flags, else questions on a terminal, else the error that says which flag is missing. */
async function initAnswers(values: Record<string, unknown>, publicUrl: string): Promise<InitAnswers> {
  const interactive = process.stdin.isTTY && !values.yes;
  let forge = values.forge as string | undefined;
  let repo = (values.repo as string[] | undefined)?.[0];
  let branches = values.branches as string | undefined;
  let url = publicUrl;
  if (interactive) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const ask = async (q: string, dflt: string) => (await rl.question(`${q} [${dflt}]: `)).trim() || dflt;
    forge ??= await ask(`Forge (${FORGE_LIST.map((f) => f.name).join(', ')})`, 'github');
    repo ??= await ask('Repository (owner/name)', 'octo-org/app');
    branches ??= await ask('Branches to build (comma-separated globs)', 'main');
    url = await ask('Public URL of this server (what the forge calls)', publicUrl);
    rl.close();
  }
  forge ??= 'github';
  if (!isForgeName(forge)) throw new ConfigError(`--forge is one of ${FORGE_CHOICES}, not "${forge}"`);
  if (!repo || !/^[^/\s]+(\/[^/\s]+)+$/.test(repo))
    throw new ConfigError(
      'give the repository: pushci init --repo owner/name (or run it in a terminal to be asked)',
    );
  return {
    forge,
    repository: repo,
    branches: (branches ?? 'main')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    publicUrl: url.replace(/\/+$/, ''),
    ...(values['clone-url'] ? { cloneUrl: String(values['clone-url']) } : {}),
  };
}

async function main(argv: string[]): Promise<number> {
  // Commands with their own flags and help.
  if (argv[0] === 'endpoints') {
    if (existsSync('.env') && !argv.includes('--help')) process.loadEnvFile('.env');
    return endpointsCommand(argv.slice(1));
  }
  if (argv[0] === 'artifacts') {
    if (existsSync('.env') && !argv.includes('--help')) process.loadEnvFile('.env');
    return artifactsCommand(argv.slice(1));
  }
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    help: { type: 'boolean' },
    'no-worker': { type: 'boolean' },
    json: { type: 'boolean' },
    since: { type: 'string' },
    'hook-id': { type: 'string' },
    forge: { type: 'string' },
    yes: { type: 'boolean', short: 'y' } as { type: 'boolean' },
    branches: { type: 'string' },
    repo: { type: 'string', multiple: true },
    'clone-url': { type: 'string' },
    secret: { type: 'string', multiple: true },
    pipeline: { type: 'string' },
    branch: { type: 'string' },
    tag: { type: 'string' },
    sha: { type: 'string' },
    status: { type: 'string' },
    limit: { type: 'string' },
    job: { type: 'string' },
    follow: { type: 'boolean', short: 'f' } as { type: 'boolean' },
    as: { type: 'string' },
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
        repos = githubRepositories(pipelines);
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
    case 'init': {
      const answers = await initAnswers(values, config.publicUrl);
      const r = await init(process.cwd(), config.pipelinesDir, answers);
      console.log(r.wrotePipeline ? `wrote ${r.pipelineFile}` : `kept the existing ${r.pipelineFile}`);
      if (r.wroteEnv) console.log(`wrote ${r.envFile} (secrets; pushci serve reads it)`);
      else {
        console.log(`kept your existing ${r.envFile}; add these lines to it:`);
        for (const [k, v] of Object.entries(r.env)) console.log(`  ${k}=${v}`);
      }
      console.log('');
      for (const line of r.instructions) console.log(line);
      console.log('\nThen: npm start (or npx pushci serve), push a commit, and watch the build:');
      console.log(
        `  curl -H "Authorization: Bearer ${r.env.PUSHCI_API_TOKEN}" ${answers.publicUrl}/api/builds/<id>`,
      );
      return 0;
    }
    case 'hooks': {
      const [action, repo] = rest;
      const name = String(values.forge ?? 'github');
      const hooks = isForgeName(name) ? forgeNamed(name).hooks : null;
      if ((action !== 'create' && action !== 'check') || !repo || !hooks) {
        throw new ConfigError(
          `usage: pushci hooks create|check <owner/repo> [--forge ${HOOK_FORGES.join('|')}]`,
        );
      }
      const report = action === 'create' ? await hooks.create(config, repo) : await hooks.check(config, repo);
      for (const line of report.lines) console.log(line);
      return report.ok ? 0 : 1;
    }
    case 'notify-test': {
      const url = rest[0];
      const secrets = (values.secret as string[] | undefined) ?? config.notifySecrets;
      if (!url || secrets.length === 0)
        throw new ConfigError('usage: pushci notify-test <url> --secret whsec_... (twice during a rotation)');
      // The operator's own request from their own machine: internal addresses are fine here.
      const results = await sendTestEvents(url, secrets, {
        guard: createAddressGuard(['0.0.0.0/0', '::/0']),
        timeoutMs: config.notifyTimeoutMs,
        publicUrl: config.publicUrl,
      });
      if (values.json) console.log(JSON.stringify(results, null, 2));
      else
        for (const d of results)
          console.log(
            `${d.error ? '✘' : '✔'} ${d.type.padEnd(16)} ${d.webhook_id}  ${d.status ?? '-'} ${d.duration_ms} ms${d.error ? `  ${d.error}` : ''}`,
          );
      return results.every((d) => d.error === null) ? 0 : 1;
    }
    case 'doctor': {
      const checks = await doctor(config);
      for (const c of checks)
        console.log(`${{ ok: '✔', warn: '!', fail: '✘' }[c.status]} ${c.name.padEnd(16)} ${c.detail}`);
      return checks.some((c) => c.status === 'fail') ? 1 : 0;
    }
    case 'builds': {
      const api = new ApiClient(config);
      const q = new URLSearchParams();
      for (const k of ['pipeline', 'branch', 'status', 'limit'] as const)
        if (values[k]) q.set(k, String(values[k]));
      const page = await api.json<{ builds: BuildView[]; next: string | null }>(`/api/builds?${q}`);
      if (values.json) console.log(JSON.stringify(page, null, 2));
      else {
        for (const b of page.builds) {
          console.log(
            [
              b.status.padEnd(8),
              `${b.pipeline}#${b.number}`.padEnd(20),
              (b.branch ?? b.tag ?? b.ref).padEnd(20),
              b.sha.slice(0, 7),
              b.id,
              (b.message ?? '').split('\n')[0]!.slice(0, 50),
            ].join('  '),
          );
        }
        if (page.next)
          console.log(`… more: pushci builds --json and the "next" cursor with /api/builds?cursor=`);
      }
      return 0;
    }
    case 'logs': {
      if (!rest[0]) throw new ConfigError('usage: pushci logs <build> [--job J] [--follow]');
      return await followBuild(new ApiClient(config), rest[0], {
        job: values.job as string | undefined,
        follow: Boolean(values.follow),
        json: Boolean(values.json),
      });
    }
    case 'trigger': {
      const pipeline = rest[0];
      if (!pipeline || (!values.branch && !values.tag))
        throw new ConfigError('usage: pushci trigger <pipeline> --branch B | --tag T [--sha S] [--follow]');
      const api = new ApiClient(config);
      const body = {
        ...(values.branch ? { branch: values.branch } : {}),
        ...(values.tag ? { tag: values.tag } : {}),
        ...(values.sha ? { sha: values.sha } : {}),
      };
      const r = await api.json<{
        builds: Array<{ id: string; pipeline: string; number: number; url: string }>;
      }>(`/api/pipelines/${encodeURIComponent(pipeline)}/trigger`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      const b = r.builds[0]!;
      if (values.json && !values.follow) console.log(JSON.stringify(b));
      else console.error(`started ${b.pipeline}#${b.number} (${b.id})`);
      return values.follow ? await followBuild(api, b.id, { follow: true, json: Boolean(values.json) }) : 0;
    }
    case 'approve': {
      if (!rest[0]) throw new ConfigError('usage: pushci approve <build> [--as NAME]');
      const by = (values.as as string | undefined) ?? userInfo().username;
      const r = await new ApiClient(config).json<{ id: string; approval: { by: string; at: string } }>(
        `/api/builds/${encodeURIComponent(rest[0])}/approve`,
        { method: 'POST', body: JSON.stringify({ by }) },
      );
      console.log(values.json ? JSON.stringify(r) : `approved ${r.id} as ${r.approval.by}; it is queued`);
      return 0;
    }
    case 'redeliver': {
      if (!rest[0]) throw new ConfigError('usage: pushci redeliver <delivery-id>');
      const r = await new ApiClient(config).json<{ id: string }>(
        `/api/deliveries/${encodeURIComponent(rest[0])}/redeliver`,
        { method: 'POST' },
      );
      console.log(values.json ? JSON.stringify(r) : `delivering ${r.id} again`);
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
      // Stopping waits for running jobs (up to the grace), then closes connections. With Redis gone those
      // closes can wait for ever; a process told to stop must stop all the same.
      const deadline = setTimeout(() => {
        log.error(
          { after_ms: config.shutdownGraceMs + STOP_MARGIN_MS },
          'could not stop cleanly in time; exiting',
        );
        log.flush();
        process.exit(1);
      }, config.shutdownGraceMs + STOP_MARGIN_MS);
      deadline.unref();
      await running.close();
      clearTimeout(deadline);
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
