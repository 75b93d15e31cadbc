import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The routes of the cache and artifact protocols a step may use, each with its methods; everything else
 * answers 404 without reaching the server.
 */
// Exact shapes only: no "..", no percent-encoded path, nothing a URL parser could normalise elsewhere.
const ALLOWED: Array<[RegExp, string[]]> = [
  [
    /^\/_apis\/artifactcache\/(cache|caches|caches\/[0-9a-f]{32}|artifacts\/[0-9a-f]{32})(\?[^#/]*)?$/,
    ['GET', 'POST', 'PATCH'],
  ],
  [
    /^\/twirp\/github\.actions\.results\.api\.v1\.ArtifactService\/(CreateArtifact|FinalizeArtifact|ListArtifacts|GetSignedArtifactURL|DeleteArtifact)$/,
    ['POST'],
  ],
  // A signed blob URL: build id / job / artifact name or its hash (the store's own shapes) / purpose, then the query.
  [
    /^\/_apis\/pushci\/artifacts\/[0-9a-z]{1,64}\/[A-Za-z_][A-Za-z0-9_-]{0,99}\/([A-Za-z0-9][A-Za-z0-9._-]{0,99}|~[0-9a-f]{40})\/upload\?[A-Za-z0-9%=&_.~+-]*$/,
    ['PUT'],
  ],
  [
    /^\/_apis\/pushci\/artifacts\/[0-9a-z]{1,64}\/[A-Za-z_][A-Za-z0-9_-]{0,99}\/([A-Za-z0-9][A-Za-z0-9._-]{0,99}|~[0-9a-f]{40})\/download\?[A-Za-z0-9%=&_.~+-]*$/,
    ['GET', 'HEAD'],
  ],
];
const allowed = (method: string, path: string) =>
  ALLOWED.some(([re, methods]) => methods.includes(method) && re.test(path));
const FORWARDED = [
  'content-type',
  'content-length',
  'content-range',
  'accept',
  'user-agent',
  'transfer-encoding',
];

export interface JobGateway {
  /** The unix socket it listens on (never inside any sandbox). */
  readonly socket: string;
  /** The base URL steps use (`http://127.0.0.1:<port>/`); set once the runtime exposed the gateway. */
  base: string | null;
  /**
   * Listens on `socket` (idempotent). Only a job whose steps use the gateway gets there (an action, or a
   * step given its URL): a forwarder connects to the socket for each of the step's connections, so this
   * must have settled before such a step starts.
   */
  open(): Promise<void>;
  /** Also listens on this machine's loopback (steps that share its network); returns the base URL. */
  listenLoopback(): Promise<string>;
  close(): Promise<void>;
}

/**
 * A place for the socket whose path fits sun_path (108 bytes) and socat's address syntax, and whether it
 * must still be made (by `open`, so a job whose steps never use the gateway makes nothing).
 */
async function socketDir(dataDir: string): Promise<{ dir: string; make: boolean }> {
  const dir = join(dataDir, 'sockets');
  if (dir.length < 60 && /^[A-Za-z0-9_./-]+$/.test(dir)) return { dir, make: true };
  const tmp = await mkdtemp(join(tmpdir(), 'pushci-sockets-'));
  await chmod(tmp, 0o700);
  return { dir: tmp, make: false };
}

/**
 * One job's way to the cache and artifact services: a small HTTP proxy on a unix socket of the worker's
 * (listening from its `open`, so a job whose steps never use it costs no socket), which the
 * job's sandboxes reach through a forwarder on their own loopback. It passes only those protocols'
 * routes to the server (`PUSHCI_URL`, `/job/…`), adding the job's credential, so the step never holds
 * the credential, and nothing else of the server (or of this machine) becomes reachable.
 */
export async function startJobGateway(o: {
  dataDir: string;
  name: string;
  serverUrl: string;
  credential: string;
  /** Called before the gateway listens: the credential is stored then (see `JobCredentials.lazy`). */
  ready?: () => Promise<void>;
}): Promise<JobGateway> {
  const { dir, make } = await socketDir(o.dataDir);
  const socket = join(dir, `${o.name}.sock`);
  let opened: Promise<void> | null = null;
  const target = new URL(o.serverUrl.replace(/\/*$/, '/'));
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const gw: JobGateway = {
    socket,
    base: null,
    open: () =>
      (opened ??= (async () => {
        await o.ready?.();
        if (make) await mkdir(dir, { recursive: true, mode: 0o700 });
        await rm(socket, { force: true });
        const unix = createServer(handle);
        servers.push(unix);
        await new Promise<void>((resolve, reject) => {
          unix.once('error', reject);
          unix.listen(socket, () => resolve());
        });
        await chmod(socket, 0o600);
      })()),
    listenLoopback: async () => {
      await o.ready?.();
      const tcp = createServer(handle);
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(tcp);
      gw.base = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}/`;
      return gw.base;
    },
    close: async () => {
      await opened?.catch(() => {});
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.close(() => r());
              s.closeAllConnections();
            }),
        ),
      );
      if (opened) await rm(socket, { force: true });
    },
  };
  function handle(req: IncomingMessage, res: ServerResponse) {
    const path = req.url ?? '';
    if (!allowed(req.method ?? '', path) || !gw.base) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: 'not_found',
          message:
            'only the cache and artifact protocols (_apis/artifactcache, twirp ArtifactService) are here',
        }),
      );
      req.resume();
      return;
    }
    const headers: Record<string, string> = {};
    for (const h of FORWARDED) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    headers.authorization = `Bearer ${o.credential}`;
    headers['x-pushci-job-base'] = gw.base;
    const url = new URL(`job${path}`, target);
    const out = send(url, { method: req.method, headers }, (up) => {
      const back: Record<string, string> = {};
      for (const h of ['content-type', 'content-length', 'content-disposition']) {
        const v = up.headers[h];
        if (typeof v === 'string') back[h] = v;
      }
      res.writeHead(up.statusCode ?? 502, back);
      up.pipe(res);
    });
    out.on('error', (err) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: 'bad_gateway',
            message: `the pushci server is unreachable: ${err.message}`,
          }),
        );
      } else res.destroy();
    });
    req.pipe(out);
  }
  const servers: ReturnType<typeof createServer>[] = [];
  return gw;
}
