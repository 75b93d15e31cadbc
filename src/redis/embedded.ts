import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, readFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { ensurePrivateDir, readOrCreatePrivateFile, readPrivateFile, writePrivateFile } from '../data-dir.ts';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { freePort } from './ports.ts';

export interface EmbeddedRedis {
  /** `redis://:<password>@127.0.0.1:<port>` */
  url: string;
  /** Stops the redis-server (only the `pushci serve` that owns it calls this). */
  stop(): Promise<void>;
  /** Tells the redis-server to shut down (it saves and exits on its own) and returns at once. */
  stopNow(): void;
}

export const NO_REDIS_SERVER =
  'no redis-server found on PATH: install one (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL';

/** Where the embedded Redis keeps its files under the data dir. */
export function embeddedPaths(dataDir: string) {
  const dir = join(dataDir, 'redis');
  return {
    dir,
    /** The password, generated on first start (0600). */
    password: join(dir, 'password'),
    /** Where the running one listens: `{ port, pid, serve_pid, started_at }` (0600). */
    state: join(dir, 'embedded.json'),
    /** Its configuration, password included, so the password never shows in `ps` (0600). */
    conf: join(dir, 'redis.conf'),
    pid: join(dir, 'redis.pid'),
    log: join(dir, 'redis.log'),
  };
}

interface State {
  port: number;
  pid: number;
  serve_pid: number;
  started_at: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `pid` is a redis-server, so a pid file left by a crash never gets another process killed.
 * Synchronous (one small read of /proc): a process about to exit asks it too.
 */
function isRedisServer(pid: number): boolean {
  if (!alive(pid)) return false;
  if (process.platform !== 'linux') return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server');
  } catch {
    return false;
  }
}

function resp(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * Sends AUTH then one command to 127.0.0.1:port on a plain socket and returns the raw replies, or null
 * when nothing answers in time. Used before any client exists: to find out whether a Redis there is ours.
 */
function authenticated(
  port: number,
  password: string,
  command: string[],
  timeoutMs = 1500,
): Promise<string | null> {
  return new Promise((done) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    const finish = (v: string | null) => {
      s.destroy();
      done(v);
    };
    s.setTimeout(timeoutMs, () => finish(null));
    s.on('error', () => finish(text || null));
    s.on('connect', () => s.write(resp(['AUTH', password]) + resp(command)));
    s.on('data', (d: Buffer) => {
      text += d.toString();
      if ((text.match(/\r\n/g) ?? []).length >= 2) finish(text);
    });
    s.on('close', () => finish(text || null));
  });
}

/** Whether the Redis on 127.0.0.1:port accepts `password` (then it is ours: nobody else knows it). */
export async function redisAccepts(port: number, password: string): Promise<boolean> {
  return (await authenticated(port, password, ['PING'])) === '+OK\r\n+PONG\r\n';
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = net.createServer();
    s.once('error', () => done(false));
    s.listen(port, '127.0.0.1', () => s.close(() => done(true)));
  });
}

async function readState(file: string): Promise<State | null> {
  try {
    const s = JSON.parse((await readPrivateFile(file)) ?? 'null') as State | null;
    return s && Number.isInteger(s.port) && s.port > 0 ? s : null;
  } catch {
    return null;
  }
}

const url = (port: number, password: string) => `redis://:${password}@127.0.0.1:${port}`;
/** A value for redis.conf: quoted, with the escapes redis-server's parser knows. */
const quote = (v: string) => JSON.stringify(v);

/** Stops a redis-server on our data that we cannot talk to (one a pushci without passwords left running). */
async function stopLeftover(pidFile: string, log: Logger): Promise<void> {
  const pid = Number((await readPrivateFile(pidFile))?.trim());
  if (!(pid > 0) || !isRedisServer(pid)) return;
  log.warn({ pid }, 'stopping a redis-server a previous pushci left running on this data dir');
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

async function waitGone(pid: number, ms: number): Promise<void> {
  for (let waited = 0; waited < ms && alive(pid); waited += 50) await sleep(50);
}

/**
 * The embedded default when `REDIS_URL` is unset, for the `pushci serve` that owns the data dir (it holds
 * the serve lock): a private redis-server under `<dataDir>/redis`, bound to 127.0.0.1, with a password
 * generated on first start, and append-only persistence fsynced on every write, so a 2xx survives even a
 * crash of Redis itself. If a crashed serve left its redis-server running, that one is adopted (it
 * answers to our password, so it is ours) rather than a second one started on the same files.
 */
export async function startEmbeddedRedis(dataDir: string, log: Logger): Promise<EmbeddedRedis> {
  const p = embeddedPaths(dataDir);
  await ensurePrivateDir(dataDir);
  await ensurePrivateDir(p.dir);
  const { text: password, created } = await readOrCreatePrivateFile(p.password, () =>
    randomBytes(32).toString('hex'),
  );
  await chmod(p.password, 0o600);
  if (created)
    log.info({ file: p.password }, 'generated the embedded Redis password (kept in the data dir, 0600)');
  const previous = await readState(p.state);

  if (previous && (await redisAccepts(previous.port, password))) {
    log.warn(
      { port: previous.port, pid: previous.pid },
      'adopting the embedded redis-server a previous pushci serve left running',
    );
    await writePrivateFile(p.state, JSON.stringify({ ...previous, serve_pid: process.pid }));
    return {
      url: url(previous.port, password),
      async stop() {
        // SHUTDOWN writes the append-only file out before the server exits.
        await authenticated(previous.port, password, ['SHUTDOWN']);
        await waitGone(previous.pid, 10_000);
        if (isRedisServer(previous.pid)) process.kill(previous.pid, 'SIGKILL');
      },
      stopNow() {
        // SIGTERM: redis-server saves and exits as on SHUTDOWN. Only a pid that is a redis-server now.
        try {
          if (isRedisServer(previous.pid)) process.kill(previous.pid, 'SIGTERM');
        } catch {
          // It ended meanwhile.
        }
      },
    };
  }
  await stopLeftover(p.pid, log);

  // The same port as last time when it is free, so workers of this folder reconnect by themselves.
  let port = previous && (await portFree(previous.port)) ? previous.port : await freePort();
  for (let attempt = 1; ; attempt++) {
    const conf = [
      `port ${port}`,
      'bind 127.0.0.1',
      'protected-mode yes',
      `requirepass ${quote(password)}`,
      `dir ${quote(p.dir)}`,
      'appendonly yes',
      'appendfsync always',
      'save ""',
      'maxmemory-policy noeviction',
      `pidfile ${quote(p.pid)}`,
      `logfile ${quote(p.log)}`,
      '',
    ].join('\n');
    await writePrivateFile(p.conf, conf);
    let child: ChildProcess;
    try {
      child = await new Promise<ChildProcess>((resolve, reject) => {
        // Its own process group: a Ctrl-C in the terminal reaches pushci, which drains its jobs and then
        // stops Redis, instead of Redis going away under running jobs.
        const c = spawn('redis-server', [p.conf], { stdio: 'ignore', detached: true });
        c.once('error', reject);
        c.once('spawn', () => resolve(c));
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError(NO_REDIS_SERVER);
      throw err;
    }
    child.unref();
    let up = false;
    for (let i = 0; i < 100 && child.exitCode === null && child.signalCode === null; i++) {
      if ((up = await redisAccepts(port, password))) break;
      await sleep(100);
    }
    if (!up) {
      if (child.exitCode === null) child.kill('SIGKILL');
      const why = await readFile(p.log, 'utf8').catch(() => '');
      // Another program took the port between our check and Redis binding it: try another one.
      if (attempt < 3 && /Address already in use/.test(why.split('\n').slice(-5).join('\n'))) {
        port = await freePort();
        continue;
      }
      throw new ConfigError(
        `the embedded redis-server did not start (exit ${child.exitCode ?? 'none'}); see ${p.log}`,
      );
    }
    const state: State = {
      port,
      pid: child.pid!,
      serve_pid: process.pid,
      started_at: new Date().toISOString(),
    };
    await writePrivateFile(p.state, JSON.stringify(state));
    log.info({ port, dir: p.dir }, 'embedded redis-server started (set REDIS_URL to use your own)');
    return {
      url: url(port, password),
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(10_000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
      stopNow() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      },
    };
  }
}

/** The embedded Redis a `pushci serve` of this data dir runs, or null when none answers right now. */
export async function findEmbeddedRedis(dataDir: string): Promise<{ url: string; port: number } | null> {
  const p = embeddedPaths(dataDir);
  const [password, state] = await Promise.all([readPrivateFile(p.password), readState(p.state)]);
  if (!password || !state || !(await redisAccepts(state.port, password))) return null;
  return { url: url(state.port, password), port: state.port };
}

/**
 * For `pushci worker` (and other commands) in a folder where `pushci serve` runs: the serve's embedded
 * Redis (address and password from the data dir), waiting for it while the serve is not up yet. The
 * joiner never stops it; the serve that started it does.
 */
export async function joinEmbeddedRedis(dataDir: string, log: Logger): Promise<string> {
  for (let waiting = false; ; waiting = true) {
    const found = await findEmbeddedRedis(dataDir);
    if (found) {
      log.info({ port: found.port }, 'joined the embedded Redis of the pushci serve in this data dir');
      return found.url;
    }
    if (!waiting)
      log.info(
        { data_dir: dataDir },
        'waiting for pushci serve to start its embedded Redis in this data dir (or set REDIS_URL)',
      );
    await sleep(500);
  }
}
