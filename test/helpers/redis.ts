import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { canConnect, freePort } from '../../src/redis/ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { freePort };

export interface TestRedis {
  url: string;
  /** A key prefix of this test's own, so tests sharing one Redis (REDIS_URL) never meet. */
  prefix: string;
  /** Only for private servers: SIGKILL it, and start it again on the same port and data. */
  kill?(): Promise<void>;
  restart?(): Promise<void>;
  /** Only for private servers: the redis-server's process id (the bench reads its CPU time). */
  pid?(): number | undefined;
  stop(): Promise<void>;
}

let counter = 0;
const uniquePrefix = () => `t${process.pid}x${Date.now().toString(36)}x${counter++}`;

/**
 * A private redis-server on a free port (append-only, so restarts keep data), or the Redis of
 * REDIS_URL with a unique key prefix when that is set.
 */
export async function startRedis(opts: { private?: boolean } = {}): Promise<TestRedis> {
  const shared = process.env.REDIS_URL;
  if (shared && !opts.private) return { url: shared, prefix: uniquePrefix(), stop: async () => {} };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pushci-test-redis-'));
  let proc: ChildProcess;
  const launch = async () => {
    proc = spawn(
      'redis-server',
      [
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
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) {
      if (await canConnect(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not start');
  };
  await launch();
  const kill = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await gone;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    prefix: uniquePrefix(),
    kill,
    restart: launch,
    stop: kill,
    pid: () => proc.pid,
  };
}
