import type { JobCredentials } from '../artifacts/job-credentials.ts';
import type { ActionHolds } from './actions-cache.ts';
import type { JobRuntime, Reservation } from './backend.ts';
import type { FileWork } from './files/file-work.ts';
import type { JobAccessHeld } from './job-access.ts';
import type { JobLog } from './job-log.ts';
import type { JobTimings } from './job-timings.ts';
import type { JobServices } from './services/start-services.ts';

/** What a job attempt holds until it ends: released by `releaseJob`, whatever happened. */
export interface JobHolds {
  credentials: JobCredentials;
  access: JobAccessHeld;
  /** What the backend made for the job while its checkout ran (`Backend.reserve`). */
  reserved: Promise<Reservation> | null;
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
    reserved: null,
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
  /** Takes the workspace's removal to do later (see RunJobDeps.removeWorkspace); absent: done here. */
  later?: (remove: () => Promise<void>) => void;
}): Promise<void> {
  const { holds, timings } = o;
  timings.lap('outputs');
  await holds.starting?.catch(() => {});
  await holds.services?.stop().catch(() => {});
  await holds.access.gateway?.close().catch(() => {});
  await holds.runtime?.destroy().catch(() => {});
  // Nothing when the runtime took it over; else (the job ended before its sandbox) released here.
  await holds.reserved?.then((r) => r.release()).catch(() => {});
  await holds.actions?.release();
  timings.lap('sandbox and gateway teardown');
  // The credential's revocation goes to Redis together with the log's last lines: with `appendfsync
  // always` Redis syncs its file once per batch of writes it reads, not once per write, and a trivial
  // job's writes are a dozen such syncs, each milliseconds long on a slow disk. Nothing can use the
  // credential meanwhile: the gateway that holds it is closed and the job's steps have ended.
  const credential = holds.access.credential;
  await Promise.all([
    // Stored only if something used it (its store may still be under way: revoked once it is done).
    credential?.stored
      ? credential.stored
          .catch(() => {})
          .then(() => holds.credentials.revoke(credential.token))
          .catch(() => {})
      : null,
    o.log.close().catch(() => {}),
  ]);
  timings.lap('log flush');
  if (o.workspace === null) return;
  const workspace = o.workspace;
  const remove = () => o.files.apply([{ op: 'rm', path: workspace }]).catch(() => {});
  if (o.later) return o.later(remove);
  await remove();
  timings.lap('workspace removal');
}
