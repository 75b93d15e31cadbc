import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
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

/**
 * The command that runs first inside every sandbox. With a private network it adds a "prohibit" route
 * for each blocked destination (it holds CAP_NET_ADMIN in the sandbox's namespaces for this), then drops
 * every capability for good (bounding set included), so nothing the step starts can change the routes.
 * Then it reports on fd 5 that the sandbox is up (bubblewrap can fail while setting it up, before any
 * of the step ran: that start is retried) and runs the step.
 */
export function stepCommand(argv: string[], blocked: string[] | null): string[] {
  const ready = 'printf . >&5; exec 5>&-; ';
  if (!blocked) return ['/bin/sh', '-c', `${ready}exec "$@"`, 'pushci-step', ...argv];
  // One `ip` for all routes. The destinations come from this machine's interfaces, never from a payload;
  // anything but an address with a prefix length is refused rather than put into the script.
  const routes = blocked.map((d) => {
    if (!/^[0-9a-f.:]+\/\d{1,3}$/i.test(d)) throw new Error(`not an address: ${d}`);
    return `route add prohibit ${d}`;
  });
  const script =
    `ip -batch - <<'ROUTES' || exit 125\n${routes.join('\n')}\nROUTES\n` +
    `${ready}exec setpriv --bounding-set=-all --inh-caps=-all --ambient-caps=-all -- "$@"`;
  return ['/bin/sh', '-c', script, 'pushci-step', ...argv];
}

/** bubblewrap options that let `stepCommand` set its routes (and nothing else). */
export const GUARD_CAPS = ['--cap-add', 'CAP_NET_ADMIN', '--cap-add', 'CAP_SETPCAP'];

/**
 * Gives the network namespace of `pid` (a sandbox waiting to start) outbound access through
 * slirp4netns; the sandbox's own `stepCommand` makes this machine's addresses unreachable. The
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
