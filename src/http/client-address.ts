import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors.ts';
import { unmapIPv4 } from '../notify/ssrf.ts';

/** Says which address a request comes from. */
export type ClientAddress = (req: IncomingMessage) => string;

/**
 * The client's address: the socket's peer, unless that peer is a proxy named in `trusted`
 * (`PUSHCI_TRUST_PROXY`: addresses and CIDRs); then `X-Forwarded-For` is read from the right, skipping
 * trusted hops, and the first untrusted one is the client. Everything left of it could have been written
 * by the client itself, so it is never believed.
 */
export function clientAddress(trusted: readonly string[]): ClientAddress {
  if (trusted.length === 0) return (req) => unmapIPv4(req.socket.remoteAddress ?? 'unknown');
  const list = new BlockList();
  for (const entry of trusted) {
    const [addr = '', bits] = entry.split('/');
    const family = isIP(addr);
    if (family === 0 || (bits !== undefined && !/^\d+$/.test(bits)))
      throw new ConfigError(`PUSHCI_TRUST_PROXY: "${entry}" is not an address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  const isTrusted = (ip: string) => {
    const a = unmapIPv4(ip);
    const family = isIP(a);
    return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  };
  return (req) => {
    let client = unmapIPv4(req.socket.remoteAddress ?? 'unknown');
    if (!isTrusted(client)) return client;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = unmapIPv4(hops[i]!);
      if (isIP(hop) === 0) return client; // garbage: the last address we could trust is the answer
      client = hop;
      if (!isTrusted(hop)) return hop;
    }
    return client;
  };
}
