import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readApiToken } from '../../src/api-token.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { start, type Running } from '../../src/server.ts';
import { captureLog } from './capture-log.ts';
import type { TestRedis } from './redis.ts';

export interface TestServer extends Running {
  base: string;
  config: Readonly<Config>;
  /** Every log line the server wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** The API token: PUSHCI_API_TOKEN, or the one the server generated into its data dir. */
  token: string;
  /** `fetch(base + path)` with the API token as a bearer. */
  api(path: string, init?: RequestInit): Promise<Response>;
}

/** Writes pipeline files (name → YAML) into a fresh folder. */
export function pipelinesDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pushci-test-pipelines-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A whole pushci (HTTP and workers) in this process, configured like a user would with env vars. */
export async function startServer(
  redis: TestRedis,
  pipelines: Record<string, string>,
  env: Record<string, string> = {},
  opts: { http?: boolean; worker?: boolean; now?: () => number } = {},
): Promise<TestServer> {
  const config = loadConfig({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    PUSHCI_QUEUE_PREFIX: redis.prefix,
    PUSHCI_PIPELINES: pipelinesDir(pipelines),
    PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-test-data-')),
    PUSHCI_NOTIFY_ALLOW: '127.0.0.1/32',
    PUSHCI_NOTIFY_RETRY_SCHEDULE: '0,50ms,100ms',
    PUSHCI_LOG_LEVEL: 'debug',
    PUSHCI_SHUTDOWN_GRACE_MS: '1000',
    // In-process servers share the test runner's heap: compacting it would only slow the suite down.
    PUSHCI_COMPACT_HEAP: 'false',
    ...env,
  });
  const { log, lines: logs } = captureLog('debug');
  const running = await start(config, {
    http: opts.http ?? true,
    worker: opts.worker ?? true,
    log,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const base = running.url ?? '';
  const token = config.apiToken ?? readApiToken(config.dataDir) ?? '';
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) },
    });
  return { ...running, base, config, logs, token, api };
}
