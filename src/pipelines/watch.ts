import { watch, type FSWatcher } from 'node:fs';
import type { Diagnostic } from './diagnostic.ts';
import { loadPipelines } from './load.ts';
import { composePipelineSet, inForce, type PipelineSet } from './pipeline-set.ts';

export interface WatchOptions {
  dir: string;
  env: Readonly<Record<string, string>>;
  /** Wait this long after the last change before reloading (editors write in several steps). */
  debounceMs?: number;
  /** The set in force now: a broken file falls back to the version it has in force. */
  current(): PipelineSet;
  /** The new set: good files as they are now, broken ones with their last good version. */
  onLoad(set: PipelineSet): void;
  /** The folder itself could not be read: the set in force stays. */
  onError(diagnostic: Diagnostic): void;
}

/**
 * Reloads the pipelines folder when a file in it changes. Each file stands on its own: a good edit takes
 * effect even while another file is broken, and a broken or half-saved file keeps its last good version
 * in force. Queued builds are unaffected either way: they carry the definition they matched with.
 */
export function watchPipelines(o: WatchOptions): { close(): void } {
  let timer: NodeJS.Timeout | null = null;
  let running = Promise.resolve();
  const reload = () => {
    running = running.then(async () => {
      try {
        const loaded = await loadPipelines(o.dir, o.env);
        o.onLoad(composePipelineSet(loaded, inForce(o.current())));
      } catch (err) {
        o.onError({ file: o.dir, line: 1, col: 1, message: (err as Error).message });
      }
    });
  };
  const watcher: FSWatcher = watch(o.dir, (_event, name) => {
    if (name !== null && !/\.ya?ml$/.test(String(name))) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, o.debounceMs ?? 200);
  });
  // The folder went away or became unreadable: say so where load problems go; the last good set stays.
  watcher.on('error', (err) =>
    o.onError({ file: o.dir, line: 1, col: 1, message: `watching stopped: ${err.message}` }),
  );
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
