import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { createDeliveryWorker } from './notify/delivery-worker.ts';
import { startHeartbeat } from './queue/worker-heartbeat.ts';
import { createJobWorker } from './runner/job-worker.ts';
import { workerLabels } from './runner/labels.ts';
import { selectBackend } from './runner/select-backend.ts';
import { createStack, jobWorkerParts, type Stack } from './stack.ts';

export interface WorkersDeps {
  log: Logger;
  clock: { now?: () => number };
  connect(role: 'worker'): Promise<Redis>;
  /** Where the job gateway finds the server (the HTTP server next to it, else PUSHCI_URL). */
  serverUrl(): string;
  /** This process also serves HTTP (which reports endpoint-key problems itself). */
  withHttp: boolean;
  /** What stops them, in the order they start (the caller stops in reverse). */
  closers: Array<() => Promise<unknown>>;
}

/** The job and delivery workers of this process, and its heartbeat for the Workers page. */
export async function startWorkers(config: Readonly<Config>, deps: WorkersDeps): Promise<void> {
  const { log, closers } = deps;
  // The sandbox probe (one process) overlaps with connecting to Redis: a worker starts sooner.
  const [backend, redis]: [Awaited<ReturnType<typeof selectBackend>>, Redis] = await Promise.all([
    selectBackend(config, log),
    deps.connect('worker'),
  ]);
  const stack: Stack = createStack(redis, config, log, deps.clock);
  closers.push(() => stack.close());
  const jobWorker = await createJobWorker({
    ...jobWorkerParts(stack),
    config,
    log,
    backend,
    serverUrl: deps.serverUrl,
  });
  const deliveryWorker: Worker = createDeliveryWorker({
    config,
    connection: redis,
    log,
    deliveryLog: stack.deliveryLog,
    seal: stack.seal,
    endpoints: stack.endpoints,
    emitter: stack.emitter,
    definitions: {
      definition: (ref) => stack.store.definition(ref),
      buildDefinition: async (id) => (await stack.store.get(id))?.def ?? null,
    },
  });
  closers.push(() => Promise.all([jobWorker.close(config.shutdownGraceMs), deliveryWorker.close()]));
  // The Workers page: who is alive, what it runs. Stops (and leaves) before the workers close.
  const stopBeat = startHeartbeat(redis, stack.keys, {
    concurrency: config.concurrency,
    labels: workerLabels(config.runnerLabels ?? []),
    running: () => jobWorker.running(),
  });
  closers.push(stopBeat);
  // Messages to registered endpoints need the secrets key; the others do not, so a worker without it
  // still delivers them, and says what is wrong.
  if (!deps.withHttp)
    await stack.endpoints
      .ready()
      .catch((err: Error) =>
        log.error({ err: err.message }, 'messages to registered endpoints cannot be signed here'),
      );
  log.info({ concurrency: config.concurrency }, 'workers started');
}
