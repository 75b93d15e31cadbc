import { isFinal } from '../core/states.ts';
import type { BuildRecord } from '../queue/build-record.ts';
import { evaluateCondition } from '../pipelines/expr/template.ts';
import { inputsContext } from '../pipelines/inputs.ts';
import { githubContext } from './github-context.ts';
import type { ScriptRedis } from '../queue/scripts.ts';
import type { BuildStore } from '../queue/store.ts';

/** What a concurrency group is kept in: the build records and the group's sorted set. */
export interface GroupParts {
  store: BuildStore;
  redis: ScriptRedis;
}

/**
 * Puts a build in its concurrency group and cancels the older unfinished builds it supersedes. An older
 * build that is already running is cancelled too, unless the group says `cancel-in-progress: false`;
 * either way the new build waits until it has ended (a cancelled build may still run its always()
 * steps), and its id is returned (null: nothing to wait for).
 */
export async function joinGroup(
  parts: GroupParts,
  group: string,
  record: BuildRecord,
  cancel: (buildId: string, reason: string, supersededBy: string) => Promise<unknown>,
): Promise<string | null> {
  // Without `concurrency:` only pull requests have a group, and a newer head cancels the older build.
  const cancelInProgress = cancelsInProgress(record);
  const members = await parts.redis.pushciGroupAdd(
    parts.store.keys.group(group),
    String(Date.parse(record.meta.created_at)),
    record.meta.id,
  );
  let wait: string | null = null;
  for (const id of members) {
    if (id >= record.meta.id) continue; // ids sort by creation: only older builds are superseded
    const older = await parts.store.get(id);
    if (!older || isFinal(older.status)) continue;
    const running = [...older.jobs.values()].some((j) => j.status === 'running' || isFinal(j.status));
    if (running && !cancelInProgress) {
      wait = id;
      continue;
    }
    await cancel(id, `superseded by build ${record.meta.id}`, record.meta.id);
    // A running build that is cancelled still runs its always() steps and jobs (GitHub's rule): the
    // group stays its until it has ended, as on GitHub, so the new build waits for that.
    if (running) wait = id;
  }
  return wait;
}

/**
 * The build's `cancel-in-progress`: as written, or its `${{ }}` evaluated with the build's `github` and
 * `inputs` (GitHub's "cancel only on other branches than main"); false when it cannot be evaluated.
 * Without `concurrency:` (a pull request's own group) a newer build cancels the older one.
 */
export function cancelsInProgress(record: Pick<BuildRecord, 'meta' | 'def' | 'number'>): boolean {
  const written = record.def.concurrency?.cancelInProgress;
  if (written === undefined) return true;
  if (typeof written === 'boolean') return written;
  try {
    return evaluateCondition(written, {
      contexts: {
        github: githubContext(record, '', '', 1),
        inputs: inputsContext(record.def.inputs ?? [], record.meta.inputs ?? {}),
      },
    });
  } catch {
    return false;
  }
}

/** Leaves the concurrency group and starts the oldest unfinished build that waited for this one. */
export async function leaveGroup(
  parts: GroupParts,
  record: BuildRecord,
  start: (next: BuildRecord) => Promise<void>,
): Promise<void> {
  if (record.group === null) return;
  const members = await parts.redis.pushciGroupRemove(parts.store.keys.group(record.group), record.meta.id);
  for (const id of members) {
    const next = await parts.store.get(id);
    if (!next || isFinal(next.status)) continue;
    await start(next);
    break;
  }
}

/** Whether an older build of the group has not finished yet (so this one must still wait). */
export async function olderMemberActive(parts: GroupParts, group: string, buildId: string): Promise<boolean> {
  const members = await parts.redis.zrange(parts.store.keys.group(group), '0', '-1');
  for (const id of members)
    if (id < buildId && !isFinal((await parts.store.get(id))?.status ?? 'success')) return true;
  return false;
}
