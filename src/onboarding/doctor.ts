import { apiTokenFile } from '../api-token.ts';
import { join } from 'node:path';
import { parseSecretsKey } from '../notify/secret-box.ts';
import { SECRETS_KEY_FILE } from '../notify/secrets-key.ts';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Config } from '../config.ts';
import { FORGE_LIST } from '../forges/registry.ts';
import { publicUrlAdvice } from './public-url-advice.ts';
import { formatDiagnostic } from '../pipelines/diagnostic.ts';
import { loadPipelines } from '../pipelines/load.ts';
import { createRedis, waitReady } from '../queue/connection.ts';
import { embeddedPaths, findEmbeddedRedis } from '../redis/embedded.ts';
import type { LastGood } from '../pipelines/pipeline-set.ts';
import { keys } from '../queue/keys.ts';
import { LastGoodPipelines } from '../queue/last-good-pipelines.ts';
import { findCgroups } from '../runner/backends/sandbox/cgroups.ts';
import { probeSandbox } from '../runner/backends/sandbox/probe.ts';
import { forwarderProblem } from '../runner/backends/sandbox/forwarder.ts';

const run = promisify(execFile);

export interface Check {
  name: string;
  /** `warn` does not fail the doctor; `fail` does. */
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

/** Adds one line of the doctor's report. */
type Add = (name: string, status: Check['status'], detail: string) => void;

/** The doctor's checks, in the order it reports them. */
const CHECKS = [
  checkRedis,
  checkGit,
  checkSandbox,
  checkPipelines,
  checkWebhookSecrets,
  checkApiToken,
  checkEndpointKey,
  checkPublicUrl,
];

/** Checks the whole setup and says, for each part, what is fine and what to do. */
export async function doctor(config: Readonly<Config>): Promise<Check[]> {
  const checks: Check[] = [];
  const add: Add = (name, status, detail) => checks.push({ name, status, detail });
  for (const check of CHECKS) await check(config, add);
  return checks;
}

/** Redis: REDIS_URL answers, or serve can start its own. */
async function checkRedis(config: Readonly<Config>, add: Add): Promise<void> {
  if (config.redisUrl) {
    const redis = createRedis(config.redisUrl, 'producer', 'pushci-doctor');
    try {
      await waitReady(redis, 3000);
      add('Redis', 'ok', `reachable at ${config.redisUrl.replace(/\/\/[^@]*@/, '//***@')}`);
    } catch {
      add('Redis', 'fail', 'REDIS_URL is set but Redis does not answer: start it or fix the URL');
    } finally {
      redis.disconnect();
    }
  } else {
    const running = await findEmbeddedRedis(config.dataDir);
    try {
      const { stdout } = await run('redis-server', ['--version']);
      add(
        'Redis',
        'ok',
        running
          ? `no REDIS_URL: the embedded Redis of the pushci serve in ${config.dataDir} answers on 127.0.0.1:${running.port} (password in ${embeddedPaths(config.dataDir).password})`
          : `no REDIS_URL: pushci serve will start its own ${stdout.split(' ').slice(0, 3).join(' ')}, with a password kept in ${embeddedPaths(config.dataDir).password}`,
      );
    } catch {
      add('Redis', 'fail', 'no REDIS_URL and no redis-server on PATH: install redis-server or set REDIS_URL');
    }
  }
}

/** git, which workers check commits out with. */
async function checkGit(_config: Readonly<Config>, add: Add): Promise<void> {
  try {
    const { stdout } = await run('git', ['--version']);
    add('git', 'ok', stdout.trim());
  } catch {
    add('git', 'fail', 'git is not on PATH: workers need it to check out commits');
  }
}

/** Where steps run: the same probe `pushci serve` and `pushci worker` make at start. */
async function checkSandbox(config: Readonly<Config>, add: Add): Promise<void> {
  const missing = config.runner === 'host' ? null : await probeSandbox();
  if (config.runner === 'host')
    add('sandbox', 'warn', 'PUSHCI_RUNNER=host: steps run unsandboxed, as the pushci user (see the README)');
  else if (!missing) {
    const cg = await findCgroups();
    add(
      'sandbox',
      'ok',
      `steps run in bubblewrap; job limits as ${cg ? `cgroup v${cg.version}` : 'rlimits'}`,
    );
    const problem = forwarderProblem();
    add(
      'cache',
      problem ? 'warn' : 'ok',
      problem
        ? `${problem}: sandboxed actions cannot use the actions/cache and artifact protocols (cache: keys still work)`
        : 'sandboxed actions reach the actions/cache and artifact protocols through socat',
    );
  } else if (config.runner === 'sandbox') add('sandbox', 'fail', `PUSHCI_RUNNER=sandbox, but ${missing}`);
  else add('sandbox', 'warn', `${missing}: steps would run unsandboxed (PUSHCI_RUNNER=auto)`);
}

/** The pipeline files, and what a running server does with a broken one. */
async function checkPipelines(config: Readonly<Config>, add: Add): Promise<void> {
  try {
    const { pipelines, diagnostics, files } = await loadPipelines(config.pipelinesDir, config.env);
    const broken = files.filter((f) => f.diagnostics.length > 0);
    if (diagnostics.length > 0) {
      add(
        'pipelines',
        'fail',
        `${diagnostics.length} problem(s), e.g. ${formatDiagnostic(diagnostics[0]!)}; ${broken.length} of ${files.length} file(s) broken, the others load; run pushci validate`,
      );
      const lastGood = await readLastGood(config);
      for (const f of broken) {
        const kept = lastGood?.get(f.name);
        const fallback = !lastGood
          ? 'a running server keeps its last good version, if it ever loaded one'
          : kept
            ? `the server keeps its last good version (pipeline "${kept.pipeline.name}", loaded ${kept.since})`
            : 'it never loaded: the server runs no pipeline from it until it is fixed';
        add(
          'broken file',
          'fail',
          `${f.file}: ${fallback}\n${f.diagnostics.map((d) => `    ${formatDiagnostic(d)}`).join('\n')}`,
        );
      }
    } else if (pipelines.length === 0)
      add('pipelines', 'warn', `no pipeline files in ${config.pipelinesDir}: run pushci init`);
    else add('pipelines', 'ok', `${pipelines.length} valid: ${pipelines.map((p) => p.name).join(', ')}`);
  } catch (err) {
    add('pipelines', 'fail', (err as Error).message);
  }
}

/** The forges' webhook secrets: at least one, none short. */
async function checkWebhookSecrets(config: Readonly<Config>, add: Add): Promise<void> {
  const secrets = FORGE_LIST.flatMap((f) => f.webhookSecrets(config)).map(
    ({ env, values }) => [env, values] as const,
  );
  const set = secrets.filter(([, v]) => v.length > 0).map(([k]) => k);
  if (set.length === 0)
    add(
      'webhook secrets',
      'fail',
      'none set: every webhook would be refused; run pushci init or set GITHUB_WEBHOOK_SECRET',
    );
  else add('webhook secrets', 'ok', set.join(', '));
  const weak = secrets.filter(([, v]) => v.some((s) => s.length < 16)).map(([k]) => k);
  if (weak.length > 0)
    add('secret strength', 'warn', `${weak.join(', ')} shorter than 16 characters: use openssl rand -hex 32`);
}

/** The API token, set or generated. */
async function checkApiToken(config: Readonly<Config>, add: Add): Promise<void> {
  const tokenFile = apiTokenFile(config.dataDir);
  if (config.apiToken) add('API token', 'ok', 'PUSHCI_API_TOKEN set');
  else if (existsSync(tokenFile))
    add('API token', 'ok', `PUSHCI_API_TOKEN unset: the token is in ${tokenFile}`);
  else
    add(
      'API token',
      'warn',
      `PUSHCI_API_TOKEN unset: pushci serve will generate one into ${tokenFile} and print a login link`,
    );
}

/** The key endpoint secrets are encrypted with. */
async function checkEndpointKey(config: Readonly<Config>, add: Add): Promise<void> {
  const keyFile = join(config.dataDir, SECRETS_KEY_FILE);
  if (config.secretsKey) {
    try {
      parseSecretsKey(config.secretsKey, 'PUSHCI_SECRETS_KEY');
      add('endpoint key', 'ok', 'PUSHCI_SECRETS_KEY set: endpoint secrets are encrypted with it');
    } catch (err) {
      add('endpoint key', 'fail', (err as Error).message);
    }
  } else if (existsSync(keyFile))
    add(
      'endpoint key',
      'ok',
      `endpoint secrets are encrypted with ${keyFile}; workers on other machines need its content as PUSHCI_SECRETS_KEY`,
    );
  else
    add(
      'endpoint key',
      'ok',
      `pushci serve will generate the key for endpoint secrets into ${keyFile} (or set PUSHCI_SECRETS_KEY)`,
    );
}

/** The public URL forges send webhooks to. */
async function checkPublicUrl(config: Readonly<Config>, add: Add): Promise<void> {
  for (const a of publicUrlAdvice(config.publicUrl)) add('public URL', a.status, a.detail);
  try {
    const res = await fetch(`${config.publicUrl}/healthz`, { signal: AbortSignal.timeout(3000) });
    add(
      'public URL',
      res.ok ? 'ok' : 'fail',
      res.ok
        ? `${config.publicUrl}/healthz answers`
        : `${config.publicUrl}/healthz answered ${res.status}: is that pushci?`,
    );
  } catch (err) {
    add(
      'public URL',
      'warn',
      `${config.publicUrl} is not reachable from here (${(err as Error).message}); start pushci serve, and check PUSHCI_PUBLIC_URL is the address forges use`,
    );
  }
}

/** The last good version of each pipeline file the server keeps in Redis, or null when Redis is not reachable. */
async function readLastGood(config: Readonly<Config>): Promise<Map<string, LastGood> | null> {
  const url = config.redisUrl ?? (await findEmbeddedRedis(config.dataDir))?.url;
  if (!url) return null;
  const redis = createRedis(url, 'producer', 'pushci-doctor');
  // Unreachable is an answer here (null: doctor says Redis is not reachable), not a failure to log.
  redis.on('error', () => {});
  try {
    await waitReady(redis, 3000);
    return await new LastGoodPipelines(redis, keys(config.queuePrefix).lastGoodPipelines).read();
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}
