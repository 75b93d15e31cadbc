import type { JobCredentials } from '../artifacts/job-credentials.ts';
import type { ActionHolds } from './actions-cache.ts';
import type { JobRuntime } from './backend.ts';
import type { FileWork } from './files/file-work.ts';
import type { JobAccessHeld } from './job-access.ts';
import type { JobLog } from './job-log.ts';
import type { JobTimings } from './job-timings.ts';
import type { JobServices } from './services/start-services.ts';

/** What a job attempt holds until it ends: released by `releaseJob`, whatever happened. */
export interface JobHolds {
  credentials: JobCredentials;
  access: JobAccessHeld;
  runtime: JobRuntime | null;
  services: JobServices | null;
  actions: ActionHolds | null;
  /** The credential and gateway being made; settled before anything is released. */
  starting: Promise<unknown> | null;
}

export function jobHolds(credentials: JobCredentials): JobHolds {
  return {
    credentials,
    access: { credential: null, gateway: null },
    runtime: null,
    services: null,
    actions: null,
    starting: null,
  };
}

/**
 * Releases what the attempt held, last taken first, whatever happened (each release is best effort: the
 * job's outcome stands), then flushes the log and removes the workspace.
 */
export async function releaseJob(o: {
  holds: JobHolds;
  log: JobLog;
  /** The workspace to remove, or null to keep it (PUSHCI_KEEP_WORKSPACES). */
  workspace: string | null;
  files: FileWork;
  timings: JobTimings;
}): Promise<void> {
  const { holds, timings } = o;
  timings.lap('outputs');
  await holds.starting?.catch(() => {});
  await holds.services?.stop().catch(() => {});
  await holds.access.gateway?.close().catch(() => {});
  if (holds.access.credential) await holds.credentials.revoke(holds.access.credential).catch(() => {});
  await holds.runtime?.destroy().catch(() => {});
  await holds.actions?.release();
  timings.lap('sandbox and gateway teardown');
  await o.log.close().catch(() => {});
  timings.lap('log flush');
  if (o.workspace !== null) await o.files.apply([{ op: 'rm', path: o.workspace }]).catch(() => {});
  timings.lap('workspace removal');
}
