import { Worker } from 'node:worker_threads';
import { asyncFileWork, type FileOp, type FileWork } from './file-work.ts';

export interface FileThread extends FileWork {
  /** Ends the thread (batches still on their way fail). */
  close(): Promise<void>;
}

type Reply = { id: number; error: { message: string; code: string | null } | null };

/**
 * A worker thread that does a job's file work (FileWork). It keeps the process alive only while a
 * batch is on its way. Should it die, the batches on their way fail and later ones are done with
 * node:fs/promises on the event loop.
 */
export function startFileThread(): FileThread {
  const thread = new Worker(new URL('./file-thread-main.ts', import.meta.url));
  thread.unref();
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let next = 0;
  let dead: Error | null = null;
  const fail = (e: Error) => {
    dead ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  thread.on('message', (r: Reply) => {
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    if (pending.size === 0) thread.unref();
    if (!r.error) return p.resolve();
    p.reject(Object.assign(new Error(r.error.message), r.error.code ? { code: r.error.code } : {}));
  });
  thread.on('error', fail);
  thread.on('exit', (code) => fail(new Error(`the file thread ended (exit code ${code})`)));
  return {
    apply(ops: FileOp[]) {
      if (dead) return asyncFileWork.apply(ops);
      return new Promise<void>((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        if (pending.size === 1) thread.ref();
        thread.postMessage({ id, ops });
      });
    },
    async close() {
      await thread.terminate();
    },
  };
}
