import { readFileSync } from 'node:fs';
import { SLIRP_DNS } from './network.ts';
import { readAtMostEvery } from './read-at-most-every.ts';

/**
 * The resolv.conf the sandbox gets instead of the host's, or null to keep the host's: a resolver on the
 * host's loopback is out of a sandbox's reach, so slirp4netns' own DNS is used then. /etc/resolv.conf is
 * read at most every 5 s (each job asks).
 */
export const resolvConfFor: () => string | null = readAtMostEvery(5000, readResolvConf);

function readResolvConf(): string | null {
  try {
    const text = readFileSync('/etc/resolv.conf', 'utf8');
    const servers = [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
    // A resolver on the host's loopback (systemd-resolved, dnsmasq) is out of reach: use slirp4netns' own.
    return servers.length === 0 || servers.some((s) => s.startsWith('127.') || s === '::1')
      ? `nameserver ${SLIRP_DNS}\n`
      : null;
  } catch {
    return `nameserver ${SLIRP_DNS}\n`;
  }
}
