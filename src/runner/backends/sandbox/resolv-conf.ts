import { readFileSync } from 'node:fs';
import { SLIRP_DNS } from './network.ts';

/**
 * The resolv.conf the sandbox gets instead of the host's, or null to keep the host's: a resolver on the
 * host's loopback is out of a sandbox's reach, so slirp4netns' own DNS is used then.
 */
export function resolvConfFor(): string | null {
  const now = Date.now();
  if (last && now - last.at < MAX_AGE_MS) return last.text;
  last = { at: now, text: readResolvConf() };
  return last.text;
}

/** How long what /etc/resolv.conf says is trusted: each job asks, and each read is file work on the event loop. */
const MAX_AGE_MS = 5000;
let last: { at: number; text: string | null } | null = null;

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
