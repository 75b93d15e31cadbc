import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { canConnect, freePort } from './ports.ts';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../log.ts';

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
}

export const NO_REDIS_SERVER =
  'no redis-server found on PATH: install one (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to a running Redis';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The embedded default for `npm start`: a private redis-server under `<dataDir>/redis` with append-only
 * persistence fsynced on every write, so a 2xx survives even a crash of Redis itself.
 */
export async function startEmbeddedRedis(dataDir: string, log: Logger): Promise<EmbeddedRedis> {
  const dir = join(dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const pidFile = join(dir, 'redis.pid');
  // A previous pushci that was killed may have left its Redis running; stop it so its data is ours again.
  if (existsSync(pidFile)) {
    const old = Number(readFileSync(pidFile, 'utf8').trim());
    if (old > 0 && alive(old)) {
      process.kill(old, 'SIGTERM');
      for (let i = 0; i < 50 && alive(old); i++) await sleep(100);
    }
  }
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--pidfile',
    pidFile,
    '--logfile',
    'redis.log',
  ];
  let child: ChildProcess;
  try {
    child = await new Promise<ChildProcess>((resolve, reject) => {
      const c = spawn('redis-server', args, { stdio: 'ignore' });
      c.once('error', reject);
      c.once('spawn', () => resolve(c));
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError(NO_REDIS_SERVER);
    throw err;
  }
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null)
      throw new ConfigError(
        `the embedded redis-server exited (${child.exitCode}); see ${join(dir, 'redis.log')}`,
      );
    if (await canConnect(port)) break;
    await sleep(100);
  }
  log.info({ port, dir }, 'embedded redis-server started (set REDIS_URL to use your own)');
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
