import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** Address ranges an outbound webhook may not reach unless allowed: they lead into the server's own network. */
const DENIED_V4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT, also Alibaba's metadata at 100.100.100.200
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata at 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
] as const;
const DENIED_V6 = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64 reaches IPv4 space
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7], // unique local, AWS metadata fd00:ec2::254
  ['fe80::', 10],
  ['ff00::', 8],
] as const;

export class RefusedAddressError extends Error {
  readonly code = 'ERR_PUSHCI_REFUSED_ADDRESS';
}

/** Expands an IPv6 literal to 8 numbers; null if it is not one. */
function ipv6Groups(ip: string): number[] | null {
  if (isIP(ip) !== 6) return null;
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const p = v4[1]!.split('.').map(Number);
    text =
      text.slice(0, -v4[1]!.length) +
      `${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

/** `::ffff:a.b.c.d` and `::a.b.c.d` are IPv4 in disguise; judge them as IPv4. */
export function unmapIPv4(ip: string): string {
  const g = ipv6Groups(ip);
  if (!g) return ip;
  const zeros = g.slice(0, 5).every((x) => x === 0);
  if (zeros && (g[5] === 0xffff || (g[5] === 0 && (g[6] ?? 0) > 0))) {
    return [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255].join('.');
  }
  return ip;
}

export interface AddressGuard {
  /** Why `ip` may not be reached, or null when it may. */
  refusal(ip: string, host?: string): string | null;
  /** A `lookup` for http.request that resolves, checks every address, and connects only to an allowed one. */
  lookup: typeof dnsLookup;
}

/**
 * `allow` holds CIDRs (`10.0.0.0/8`), single addresses or host names that are exempt. The check runs on
 * the resolved address the socket connects to, so DNS rebinding cannot slip past it.
 */
export function createAddressGuard(allow: readonly string[]): AddressGuard {
  const denied = new BlockList();
  for (const [a, p] of DENIED_V4) denied.addSubnet(a, p, 'ipv4');
  for (const [a, p] of DENIED_V6) denied.addSubnet(a, p, 'ipv6');
  const allowed = new BlockList();
  const allowedHosts = new Set<string>();
  for (const entry of allow) {
    const [addr, bits] = entry.split('/') as [string, string | undefined];
    const family = isIP(addr);
    if (family === 0) allowedHosts.add(entry.toLowerCase());
    else if (bits === undefined) allowed.addAddress(addr, family === 4 ? 'ipv4' : 'ipv6');
    else allowed.addSubnet(addr, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
  }

  const refusal = (ip: string, host?: string): string | null => {
    if (host && allowedHosts.has(host.toLowerCase())) return null;
    const plain = unmapIPv4(ip);
    const type = isIP(plain) === 4 ? 'ipv4' : 'ipv6';
    if (allowed.check(plain, type) || (plain !== ip && allowed.check(ip, 'ipv6'))) return null;
    if (denied.check(plain, type)) {
      // The exact setting to add, and where: the process that sends (the server, or notify-test).
      const name = host && isIP(host) === 0 ? host : plain;
      return `${ip} is an internal address (loopback, private, link-local, CGNAT, multicast or metadata); allow it with PUSHCI_NOTIFY_ALLOW=${name} in the environment of the pushci that sends (the server: restart it)`;
    }
    return null;
  };

  const lookup = ((hostname: string, options: unknown, callback: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (
      err: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as {
      all?: boolean;
      family?: number;
    };
    dnsLookup(hostname, { all: true, family: opts.family ?? 0 }, (err, addresses) => {
      if (err) return cb(err, []);
      const ok = addresses.filter((a) => refusal(a.address, hostname) === null);
      if (ok.length === 0) {
        const first = addresses[0]?.address;
        const why = first === undefined ? null : refusal(first, hostname);
        return cb(
          new RefusedAddressError(
            why ? `${hostname} resolves to ${first}, and ${why}` : `${hostname} resolves to no address`,
          ),
          [],
        );
      }
      if (opts.all) cb(null, ok);
      else cb(null, ok[0]!.address, ok[0]!.family);
    });
  }) as typeof dnsLookup;

  return { refusal, lookup };
}
