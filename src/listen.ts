import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { ConfigError } from './errors.ts';

export interface Listening {
  /** `http://<address>:<port>` as bound. */
  url: string;
  port: number;
  /** Stops accepting, closes idle connections at once and the rest after 2 s. */
  close(): Promise<void>;
}

/** Serves `app` on PORT/HOST with the request timeouts of the settings; a taken port is a ConfigError. */
export async function listen(app: RequestListener, config: Readonly<Config>): Promise<Listening> {
  const server: Server = createServer(
    {
      headersTimeout: Math.min(10_000, config.requestTimeoutMs),
      requestTimeout: config.requestTimeoutMs,
      // Node checks these timeouts every connectionsCheckingInterval (30 s by default), so a client
      // trickling its headers could hold a connection for 40 s instead of the documented 10.
      connectionsCheckingInterval: 500,
      keepAliveTimeout: 5_000,
    },
    app,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(`port ${config.port} is in use: stop what uses it or set PORT / --port`)
          : err,
      ),
    );
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}
