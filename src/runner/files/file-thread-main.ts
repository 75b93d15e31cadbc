/**
 * A file thread's entry (see startFileThread): each message is a batch of file operations, done in
 * order and synchronously (this thread has nothing else to do); the answer carries the batch's id and
 * the first error, if any.
 */
import { parentPort } from 'node:worker_threads';
import { applyFileOps } from './apply-file-ops.ts';
import type { FileOp } from './file-work.ts';

const answer = (id: number, e: unknown) => {
  const err = e as NodeJS.ErrnoException | null;
  parentPort!.postMessage({ id, error: err ? { message: err.message, code: err.code ?? null } : null });
};

parentPort!.on('message', (m: { id: number; ops: FileOp[] }) => {
  try {
    applyFileOps(m.ops);
    answer(m.id, null);
  } catch (e) {
    answer(m.id, e);
  }
});
