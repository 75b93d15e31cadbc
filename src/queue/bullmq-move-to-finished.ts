import { hash } from 'node:crypto';
import { moveToFinished } from 'bullmq/dist/esm/scripts/moveToFinished-14.js';

/**
 * The SHA-256 of BullMQ 6.7.0's moveToFinished script, which queue/lua/finish-jobs.lua runs once per job
 * of a batch (it relies on the script reading only KEYS[1..14] and ARGV[1..9] and returning on every path).
 */
const KNOWN = '8e744ec5d65dbe9e7ffb6e39a96c0268bba65e4f0b1d04e2d2a42ccb71b45a6d';

if (moveToFinished.keys !== 14 || hash('sha256', moveToFinished.content) !== KNOWN) {
  // Another BullMQ may finish a job differently: fail at start rather than finish jobs half its way.
  throw new Error(
    'the installed BullMQ finishes jobs with a script pushci does not know; pin bullmq to 6.7.0 (src/queue/lua/finish-jobs.lua runs its moveToFinished script)',
  );
}

/** BullMQ's moveToFinished script (its includes inlined), as the installed bullmq runs it. */
export const MOVE_TO_FINISHED_LUA: string = moveToFinished.content;
