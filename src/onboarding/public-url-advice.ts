import { isIP } from 'node:net';
import { createAddressGuard } from '../notify/ssrf.ts';

/** What to tell an operator about the address forges will post webhooks to. */
export interface PublicUrlAdvice {
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

// The outbound address policy without exemptions: the same list of internal ranges deliveries refuse.
const internal = createAddressGuard([]);

/**
 * Checks PUSHCI_PUBLIC_URL as a forge would see it: a loopback or private host is unreachable from a
 * hosted forge (a self-hosted one on the same network may still reach it), and `http://` carries every
 * payload and its signature in clear text.
 */
export function publicUrlAdvice(publicUrl: string): PublicUrlAdvice[] {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    return [
      {
        status: 'fail',
        detail: `PUSHCI_PUBLIC_URL=${publicUrl} is not a URL (for example https://ci.example.com)`,
      },
    ];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return [
      { status: 'fail', detail: `PUSHCI_PUBLIC_URL must be http:// or https://, not ${url.protocol}//` },
    ];
  const out: PublicUrlAdvice[] = [];
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const local = host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local');
  const internalIp = isIP(host) !== 0 && internal.refusal(host) !== null;
  if (local || internalIp)
    out.push({
      status: 'warn',
      detail: `${url.host} is ${local ? 'a local name' : 'an internal address'}: GitHub, GitLab.com and Bitbucket cannot reach it (a forge on the same network can); set PUSHCI_PUBLIC_URL to the address forges use`,
    });
  if (url.protocol === 'http:')
    out.push({
      status: 'warn',
      detail: `${url.origin} is plain http: webhooks and their signatures travel unencrypted and the forge's SSL verification cannot be enabled; put TLS in front of pushci and use https://`,
    });
  return out;
}
