import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { formatDiagnostic } from './pipelines/diagnostic.ts';
import { loadPipelines } from './pipelines/load.ts';
import { composePipelineSet, type LastGood, type PipelineSet } from './pipelines/pipeline-set.ts';
import { reportPipelineSet } from './pipelines/report-pipeline-set.ts';
import { watchPipelines } from './pipelines/watch.ts';
import { LastGoodPipelines } from './queue/last-good-pipelines.ts';

export interface ServedPipelines {
  /** The pipelines in force. */
  current(): PipelineSet;
  /** Called after every reload (schedules follow the files). */
  onReload(fn: () => void): void;
  close(): Promise<void>;
}

/**
 * Loads the pipeline files and follows their changes. Each file on its own: a broken one is served at
 * its last good version (kept in Redis across restarts), or not at all, and never holds back the others.
 */
export async function servePipelines(
  config: Readonly<Config>,
  redis: Redis,
  lastGoodKey: string,
  log: Logger,
): Promise<ServedPipelines> {
  const lastGood = new LastGoodPipelines(redis, lastGoodKey);
  const remembered = await lastGood.read().catch((err: Error) => {
    log.warn({ err: err.message }, 'could not read the last good pipelines from Redis');
    return new Map<string, LastGood>();
  });
  const listeners: Array<() => void> = [];
  let set: PipelineSet;
  const apply = (next: PipelineSet, verb: 'loaded' | 'reloaded') => {
    set = next;
    for (const fn of listeners) fn();
    reportPipelineSet(next, log, verb, config.pipelinesDir);
    lastGood
      .record(next)
      .catch((err: Error) => log.warn({ err: err.message }, 'could not record the last good pipelines'));
  };
  apply(composePipelineSet(await loadPipelines(config.pipelinesDir, config.env), remembered), 'loaded');
  const watcher = watchPipelines({
    dir: config.pipelinesDir,
    env: config.env,
    current: () => set,
    onLoad: (next) => apply(next, 'reloaded'),
    onError(d) {
      log.error({ problem: formatDiagnostic(d) }, 'cannot reload the pipelines; the ones in force stay');
    },
  });
  return {
    current: () => set,
    onReload: (fn) => listeners.push(fn),
    close: async () => watcher.close(),
  };
}
