import { Worker } from 'node:worker_threads';
import { asyncFileWork, type FileOp, type FileWork } from './file-work.ts';

export interface FileThread extends FileWork {
  /** Ends the threads (batches still on their way fail). */
  close(): Promise<void>;
}

type Reply = { id: number; error: { message: string; code: string | null } | null };

/** One thread doing batches in order (file-thread-main.ts); after it died, `asyncFileWork` does them. */
function fileThread(): FileThread {
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

/**
 * The worker's file work (FileWork), off its event loop: a job's folders, its checkout's skeleton and
 * its command files on one thread; removals (a batch of `rm` only) on a second one, made on the first
 * removal. A removal is one native call there (`rmSync`), where node:fs/promises walks the tree with
 * several round trips through libuv's pool per file, each a thread handoff (about 2 ms of CPU for a
 * trivial job's workspace); and a large one (200,000 files take seconds) holds up no other job's folders
 * or step script. The threads keep the process alive only while a batch is on its way.
 */
export function startFileThread(): FileThread {
  const work = fileThread();
  let removals: FileThread | null = null;
  return {
    apply(ops: FileOp[]) {
      if (ops.length > 0 && ops.every((o) => o.op === 'rm')) return (removals ??= fileThread()).apply(ops);
      return work.apply(ops);
    },
    async close() {
      await Promise.all([work.close(), removals?.close()]);
    },
  };
}
