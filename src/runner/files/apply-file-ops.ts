import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { writeOptions, type FileOp } from './file-work.ts';

/** The batch of a FileWork, done synchronously: only ever on the file thread, never on the event loop. */
export function applyFileOps(ops: FileOp[]): void {
  for (const o of ops) {
    if (o.op === 'mkdir') mkdirSync(o.path, { recursive: true, ...(o.mode ? { mode: o.mode } : {}) });
    else if (o.op === 'write') writeFileSync(o.path, o.data, writeOptions(o));
    else if (o.op === 'rename') renameSync(o.from, o.to);
    // Node's rmSync is one native call (std::filesystem), not a JavaScript walk of the tree.
    else rmSync(o.path, { recursive: true, force: true });
  }
}
