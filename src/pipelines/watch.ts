import { watch, type FSWatcher } from 'node:fs';
import type { Diagnostic } from './diagnostic.ts';
import { loadPipelines } from './load.ts';
import type { PipelineSet } from './pipeline-set.ts';

export interface WatchOptions {
  dir: string;
  env: Readonly<Record<string, string>>;
  /** Wait this long after the last change before reloading (editors write in several steps). */
  debounceMs?: number;
  /** A good load: the new set is in force. */
  onLoad(set: PipelineSet): void;
  /** A broken edit: the last good set stays in force; these are the problems. */
  onReject(diagnostics: readonly Diagnostic[]): void;
}

/**
 * Reloads the pipelines folder when a file in it changes. A load with any problem is rejected whole,
 * so a half-saved or broken file never replaces a working set. Queued builds are unaffected either way:
 * they carry the definition they matched with.
 */
export function watchPipelines(o: WatchOptions): { close(): void } {
  let timer: NodeJS.Timeout | null = null;
  let running = Promise.resolve();
  const reload = () => {
    running = running.then(async () => {
      try {
        const result = await loadPipelines(o.dir, o.env);
        if (result.diagnostics.length > 0) o.onReject(result.diagnostics);
        else o.onLoad({ ...result, loadedAt: new Date().toISOString() });
      } catch (err) {
        o.onReject([{ file: o.dir, line: 1, col: 1, message: (err as Error).message }]);
      }
    });
  };
  const watcher: FSWatcher = watch(o.dir, (_event, name) => {
    if (name !== null && !/\.ya?ml$/.test(String(name))) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, o.debounceMs ?? 200);
  });
  watcher.on('error', () => {});
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
