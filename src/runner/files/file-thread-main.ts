/**
 * The file thread's entry (see startFileThread): each message is a batch of file operations, done in
 * order; the answer carries the batch's id and the first error, if any.
 */
import { parentPort } from 'node:worker_threads';
import { applyFileOps } from './apply-file-ops.ts';
import type { FileOp } from './file-work.ts';

parentPort!.on('message', (m: { id: number; ops: FileOp[] }) => {
  try {
    applyFileOps(m.ops);
    parentPort!.postMessage({ id: m.id, error: null });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    parentPort!.postMessage({ id: m.id, error: { message: err.message, code: err.code ?? null } });
  }
});
