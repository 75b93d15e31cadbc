import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { InvalidRequestError } from '../errors.ts';
import type { AddressGuard } from './ssrf.ts';

/**
 * The address policy at registration: the URL must be http(s), carry no credentials and no `${{ }}`
 * (endpoint URLs are sent exactly as written), and its host must not be, or resolve to, an internal
 * address unless `PUSHCI_NOTIFY_ALLOW` allows it. Every delivery checks the address again (DNS may
 * change), so this is the early, clear answer, not the only guard.
 */
export async function checkEndpointUrl(text: string, guard: AddressGuard): Promise<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidRequestError(`url: "${text}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidRequestError(`url: only http and https endpoints are delivered to, not ${url.protocol}`);
  if (url.username || url.password)
    throw new InvalidRequestError(
      'url: credentials in the URL would be stored and shown in the clear; verify the webhook-signature header instead',
    );
  if (/\$\{\{|%24%7B%7B/i.test(text))
    throw new InvalidRequestError('url: endpoint URLs are sent as written; ${{ }} is not expanded here');
  if (url.hash) throw new InvalidRequestError('url: a #fragment is never sent; leave it out');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : await lookup(host, { all: true }).then(
        (list) => list.map((a) => a.address),
        (err: NodeJS.ErrnoException) => {
          throw new InvalidRequestError(`url: ${host} does not resolve (${err.code ?? err.message})`);
        },
      );
  for (const address of addresses) {
    const why = guard.refusal(address, host);
    if (why)
      throw new InvalidRequestError(
        `url: ${host === address ? '' : `${host} resolves to ${address}, and `}${why}`,
      );
  }
  return url.toString();
}
