import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/log.ts';
import { createStack, type Stack } from '../../src/stack.ts';
import { makeRepo, type TestRepo } from './git.ts';
import { startReceiver } from './receiver.ts';
import { startRedis, type TestRedis } from './redis.ts';
import { startServer, type TestServer } from './server.ts';

/** What suiteServer starts; read it in the suite's tests (it is filled in before them). */
export interface SuiteServer {
  redis: TestRedis;
  repo: TestRepo;
  server: TestServer;
  /** With `remoteWorker`: the worker process, with its own data dir, that reaches `server` over HTTP. */
  worker: TestServer;
  /** With `receiver`: an HTTP receiver for outbound webhooks, started before the server. */
  receiver: Awaited<ReturnType<typeof startReceiver>>;
  /** With `stack`: the suite's own connection to the server's Redis, and a Stack (queues, store, lifecycle) on it. */
  conn: Redis;
  stack: Stack;
}

/**
 * Call inside a `describe`: before its tests, starts a private Redis, a git repository with `history`
 * and a whole pushci with the pipelines `pipelines(repo)` and `env`; after them, stops the servers, then
 * Redis. With `receiver`, a receiver for outbound webhooks is started first (`pipelines` gets its URL).
 * With `remoteWorker`, `server` only serves HTTP and a second pushci (`worker`, its own data dir)
 * runs the jobs, as a worker on another machine would. With `stack`, the suite gets a Stack of its own
 * over the server's Redis, to look at and change the queues and records as a second process would
 * (closed after `close`). `close` runs first when the suite ends, while
 * Redis is still up: for what the suite started on top (its own connections, queues).
 */
export function suiteServer(o: {
  history?: Array<Record<string, string>>;
  pipelines: (repo: TestRepo, receiver: { url: string }) => Record<string, string>;
  env?: Record<string, string>;
  remoteWorker?: boolean;
  receiver?: boolean;
  stack?: boolean;
  close?: () => Promise<void> | void;
}): SuiteServer {
  const s = {} as SuiteServer;
  before(async () => {
    s.redis = await startRedis();
    s.repo = makeRepo(o.history);
    if (o.receiver) s.receiver = await startReceiver();
    const pipelines = o.pipelines(s.repo, s.receiver ?? { url: '' });
    if (!o.remoteWorker) {
      s.server = await startServer(s.redis, pipelines, o.env);
    } else {
      s.server = await startServer(s.redis, pipelines, o.env, { worker: false });
      s.worker = await startServer(s.redis, pipelines, { PUSHCI_URL: s.server.base }, { http: false });
    }
    if (o.stack) {
      s.conn = new Redis(s.redis.url, { maxRetriesPerRequest: null });
      s.stack = createStack(s.conn, s.server.config, createLogger('silent'));
    }
  });
  after(async () => {
    await o.close?.();
    await s.stack?.close();
    s.conn?.disconnect();
    await s.worker?.close();
    await s.server?.close();
    await s.receiver?.close();
    await s.redis?.stop();
  });
  return s;
}
