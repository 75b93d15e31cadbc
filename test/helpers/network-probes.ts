import { connect, createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';

/** A TCP server on this machine that records what each client sends (an attack that got through). */
export async function sentinel(host: string): Promise<{ server: Server; port: number; got: string[] }> {
  const got: string[] = [];
  const server = createServer((sock) => {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => got.push(d.trim()));
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, port: (server.address() as { port: number }).port, got };
}

/** Whether a TCP connection to `host:port` from here is accepted within 4 s. */
export const reachable = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port, timeout: 4000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('timeout', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
  });

/** This machine's own IPv4 addresses other than loopback (a server on 0.0.0.0 answers on them). */
export const hostAddresses = () =>
  Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);
