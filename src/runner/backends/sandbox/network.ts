import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { userMapped } from './user-mapped.ts';
import type { Readable, Writable } from 'node:stream';

/** The DNS forwarder slirp4netns answers on inside the job's network. */
export const SLIRP_DNS = '10.0.2.3';

/**
 * Addresses a job's private network must not reach although they are not loopback: every address of
 * this machine (a server bound to 0.0.0.0 answers on them), slirp4netns' gateway (the host's loopback)
 * and link-local 169.254/16 (cloud metadata services hand out credentials there).
 */
export function blockedDestinations(): string[] {
  const out = new Set(['10.0.2.2/32', '169.254.0.0/16']);
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? [])
      if (a.family === 'IPv4' && !a.address.startsWith('127.')) out.add(`${a.address}/32`);
  return [...out];
}

function firstByte(stream: Readable, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = () => reject(new Error(`${what} stopped before it was ready`));
    stream.once('data', () => {
      stream.off('end', fail);
      resolve();
    });
    stream.once('end', fail);
    stream.once('error', fail);
  });
}

/** Limits the step's shell sets on itself with `ulimit` (soft = hard): open files and file size in bytes. */
export interface ShellLimits {
  nofile?: number;
  fsize?: number;
}

/**
 * The command that runs first inside every sandbox: it sets the step's open-file and file-size limits
 * with the shell's own `ulimit` (no program to start for them), reports on fd 5 that the sandbox is up
 * (bubblewrap can fail while setting it up, before any of the step ran: that start is retried) and
 * runs the step. The sandbox holds no capability at all: the routes that wall off this machine are set
 * from outside (`guardRoutes`) before it may start.
 */
export function stepCommand(argv: string[], limits: ShellLimits = {}): string[] {
  const set: string[] = [];
  if (limits.nofile !== undefined) set.push(`ulimit -n ${Math.floor(limits.nofile)}`);
  // `ulimit -f` counts 512-byte blocks (dash, and bash as sh).
  if (limits.fsize !== undefined) set.push(`ulimit -f ${Math.floor(limits.fsize / 512)}`);
  for (const c of set) if (!/^ulimit -[nf] \d+$/.test(c)) throw new Error(`not a limit: ${c}`);
  const ulimits = set.length > 0 ? `${set.join(' && ')} || exit 125; ` : '';
  return ['/bin/sh', '-c', `${ulimits}printf . >&5; exec 5>&-; exec "$@"`, 'pushci-step', ...argv];
}

/**
 * Makes each blocked destination unreachable in the network namespace of `pid` (a sandbox waiting to
 * start): one `ip` entered into the sandbox's user and network namespaces from outside (as slirp4netns
 * and the cache forwarder are), so the sandbox itself never holds CAP_NET_ADMIN and nothing in it can
 * change the routes (once the namespace has its uid map: `userMapped`). Rejects when a route could not
 * be set: the step must then not run.
 */
export async function guardRoutes(pid: number, blocked: string[]): Promise<void> {
  // The destinations come from this machine's interfaces, never from a payload; anything but an
  // address with a prefix length is refused rather than handed to `ip`.
  const routes = blocked.map((d) => {
    if (!/^[0-9a-f.:]+\/\d{1,3}$/i.test(d)) throw new Error(`not an address: ${d}`);
    return `route add prohibit ${d}\n`;
  });
  await userMapped(pid);
  return new Promise((resolve, reject) => {
    const ip = spawn(
      'nsenter',
      ['-t', String(pid), '-U', '-n', '--preserve-credentials', '--', 'ip', '-batch', '-'],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let err = '';
    ip.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    ip.stdin!.on('error', () => {});
    ip.once('error', (e) => reject(new Error(`could not wall off this machine from the job: ${e.message}`)));
    ip.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(
            new Error(`could not wall off this machine from the job: ${err.trim() || `ip exited ${code}`}`),
          ),
    );
    ip.stdin!.end(routes.join(''));
  });
}

/**
 * Gives the network namespace of `pid` (a sandbox waiting to start) outbound access through
 * slirp4netns; `guardRoutes` makes this machine's addresses unreachable. The
 * returned function ends it.
 */
export async function attachNetwork(pid: number): Promise<() => void> {
  const slirp = spawn(
    'slirp4netns',
    [
      '--configure',
      '--mtu=65520',
      '--disable-host-loopback',
      '--ready-fd=3',
      '--exit-fd=4',
      String(pid),
      'tap0',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let err = '';
  slirp.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  slirp.on('error', () => {});
  for (const fd of [slirp.stdio[3], slirp.stdio[4]]) (fd as Readable | null)?.on('error', () => {});
  const exitFd = slirp.stdio[4] as Writable;
  const stop = () => {
    exitFd.destroy();
    slirp.kill('SIGKILL');
  };
  try {
    await firstByte(slirp.stdio[3] as Readable, 'slirp4netns');
  } catch (e) {
    stop();
    throw new Error(`could not set up the job's network: ${(e as Error).message} ${err.trim()}`.trim());
  }
  return stop;
}
