import { ConflictError, NotFoundError } from '../errors.ts';
import { checkWho } from './check-who.ts';
import type { Logger } from '../log.ts';
import type { BuildRecord } from '../queue/build-record.ts';
import type { BuildStore } from '../queue/store.ts';
import type { Lifecycle } from './lifecycle.ts';

export interface ApproveDeps {
  store: BuildStore;
  lifecycle: Lifecycle;
  log: Logger;
}

/**
 * Lets a fork's pull request build run: `pending-approval` becomes `queued` (one compare-and-set, so a
 * build is approved once, and never after a cancel), recording who and when, and the build starts (or
 * waits for its group). Its steps still get no secrets: approving trusts the code to run, not with keys.
 */
export async function approveBuild(deps: ApproveDeps, id: string, by: string): Promise<BuildRecord> {
  checkWho(by);
  const record = await deps.store.get(id);
  if (!record) throw new NotFoundError(`no build ${id}`);
  if (record.status !== 'pending-approval')
    throw new ConflictError(
      `build ${id} is ${record.status}; only a build waiting for approval can be approved`,
    );
  const at = new Date().toISOString();
  const res = await deps.store.moveBuild(id, ['pending-approval'], 'queued', {
    reason: null,
    approval: { by, at },
  });
  if (!res.ok || !res.record)
    throw new ConflictError(
      `build ${id} was approved or canceled meanwhile (${res.record?.status ?? 'gone'})`,
    );
  deps.log.info({ build_id: id, approved_by: by }, 'build approved');
  await deps.lifecycle.admit(res.record);
  return res.record;
}
