/**
 * The file thread's entry (see startFileThread): each message is a batch of file operations, done in
 * order; the answer carries the batch's id and the first error, if any.
 */
import { parentPort } from 'node:worker_threads';
import { applyFileOps } from './apply-file-ops.ts';
import { asyncFileWork, type FileOp } from './file-work.ts';

const answer = (id: number, e: unknown) => {
  const err = e as NodeJS.ErrnoException | null;
  parentPort!.postMessage({ id, error: err ? { message: err.message, code: err.code ?? null } : null });
};

parentPort!.on('message', (m: { id: number; ops: FileOp[] }) => {
  // A job's removal can take seconds (a workspace of 200,000 files): done through libuv's pool, so the
  // thread goes on with the next batch, another job's folders or step script, instead of holding it.
  if (m.ops.length > 0 && m.ops.every((o) => o.op === 'rm')) {
    asyncFileWork.apply(m.ops).then(
      () => answer(m.id, null),
      (e: unknown) => answer(m.id, e),
    );
    return;
  }
  try {
    applyFileOps(m.ops);
    answer(m.id, null);
  } catch (e) {
    answer(m.id, e);
  }
});
