import { createHash, randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensurePrivateDir, readOrCreatePrivateFile } from '../data-dir.ts';
import { ConfigError } from '../errors.ts';

export interface ServeLock {
  release(): Promise<void>;
}

/**
 * The lock is a listening Unix socket, not a pid file: the kernel closes it when its process dies, even
 * by SIGKILL, so a crash never leaves a lock that refuses the next start, and a reused pid cannot fake
 * one. On Linux it lives in the abstract namespace (no file at all); elsewhere it is a socket file, and
 * a file nobody listens on is stale and replaced. Its name carries a random id kept in the data dir
 * (0600), so another user of the machine cannot guess it and squat it before pushci starts.
 */
async function lockAddress(dataDir: string): Promise<string> {
  await ensurePrivateDir(dataDir);
  const { text: id } = await readOrCreatePrivateFile(join(dataDir, 'serve.lock-id'), () =>
    randomBytes(16).toString('hex'),
  );
  const name = `pushci-serve-${createHash('sha256')
    .update(`${realpathSync(dataDir)}\0${id}`)
    .digest('hex')
    .slice(0, 32)}`;
  return process.platform === 'linux' ? `\0${name}` : join(tmpdir(), `${name}.sock`);
}

/** What the holder says about itself to a process that finds the lock taken. */
function askHolder(address: string): Promise<{ pid?: number; url?: string } | null> {
  return new Promise((done) => {
    const s = net.connect(address);
    let text = '';
    s.setTimeout(2000, () => s.destroy());
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('error', () => done(null));
    s.on('close', () => {
      try {
        done(JSON.parse(text) as { pid?: number; url?: string });
      } catch {
        done(text ? {} : null);
      }
    });
  });
}

function listen(server: net.Server, address: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((done) => {
    server.once('error', (err: NodeJS.ErrnoException) => done(err));
    server.listen(address, () => done(null));
  });
}

/**
 * Takes the "one `pushci serve` per data dir" lock, or throws a ConfigError naming the process that
 * holds it. Call it before anything else, so a second serve touches nothing.
 */
export async function acquireServeLock(
  dataDir: string,
  describe: () => { url?: string } = () => ({}),
): Promise<ServeLock> {
  const address = await lockAddress(dataDir);
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.end(JSON.stringify({ pid: process.pid, ...describe() }));
  });
  let err = await listen(server, address);
  if (err?.code === 'EADDRINUSE') {
    const holder = await askHolder(address);
    if (holder) {
      const who = holder.pid ? ` (pid ${holder.pid}${holder.url ? `, ${holder.url}` : ''})` : '';
      throw new ConfigError(
        `another pushci serve${who} is already running with the data dir ${resolve(dataDir)}: stop it first, or give this one its own PUSHCI_DATA_DIR`,
      );
    }
    // A socket file left by a crash (only outside Linux): nobody answers, so it is ours to replace.
    if (!address.startsWith('\0')) await unlink(address).catch(() => {});
    err = await listen(server, address);
  }
  if (err) throw err;
  server.unref();
  return {
    async release() {
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
