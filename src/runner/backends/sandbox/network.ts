import { networkInterfaces } from 'node:os';

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

/** Limits the step's shell sets on itself with `ulimit` (soft = hard): open files and file size in bytes. */
export interface ShellLimits {
  nofile?: number;
  fsize?: number;
}

/**
 * What runs first inside every sandbox, before the step (see `standbyCommand`): it sets the step's
 * open-file and file-size limits with the shell's own `ulimit` (no program to start for them) and
 * reports on fd 5 that the sandbox is up (bubblewrap can fail while setting it up, before any of the
 * step ran: that start is retried). The sandbox holds no capability at all: the routes that wall off
 * this machine are set from outside (`attachNetwork`) before it may start.
 */
export function stepPrelude(limits: ShellLimits = {}): string {
  const set: string[] = [];
  if (limits.nofile !== undefined) set.push(`ulimit -n ${Math.floor(limits.nofile)}`);
  // `ulimit -f` counts 512-byte blocks (dash, and bash as sh).
  if (limits.fsize !== undefined) set.push(`ulimit -f ${Math.floor(limits.fsize / 512)}`);
  for (const c of set) if (!/^ulimit -[nf] \d+$/.test(c)) throw new Error(`not a limit: ${c}`);
  const ulimits = set.length > 0 ? `${set.join(' && ')} || exit 125; ` : '';
  return `${ulimits}printf . >&5; exec 5>&-; `;
}
