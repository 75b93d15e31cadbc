import { randomBytes } from 'node:crypto';
import type { JobCredentials, JobGrant, LazyCredential } from '../artifacts/job-credentials.ts';
import { startJobGateway, type JobGateway } from './job-gateway.ts';

/** What `startJobAccess` made so far: the job's cleanup revokes and closes whatever is here. */
export interface JobAccessHeld {
  credential: LazyCredential | null;
  gateway: JobGateway | null;
}

/**
 * The job's own credential for the server's cache and artifact service (stored on its first use,
 * revoked when the job ends) and the job's gateway for the actions/cache and artifact protocols (which
 * holds the credential). Neither needs the checkout, so a job starts them while it checks out. Never
 * rejects: the result says what went wrong, and `held` has what was made either way.
 */
export async function startJobAccess(o: {
  credentials: JobCredentials;
  grant: Omit<JobGrant, 'defaultRef'>;
  defaultRef: () => Promise<string | null>;
  ttlMs: number;
  dataDir: string;
  serverUrl: string;
  held: JobAccessHeld;
}): Promise<{ credential: LazyCredential; gateway: JobGateway } | { err: unknown }> {
  try {
    const credential = o.credentials.lazy(
      async () => ({ ...o.grant, defaultRef: await o.defaultRef() }),
      Date.now() + o.ttlMs,
    );
    o.held.credential = credential;
    const gateway = await startJobGateway({
      dataDir: o.dataDir,
      name: randomBytes(8).toString('hex'),
      serverUrl: o.serverUrl,
      credential: credential.token,
      ready: credential.ready,
    });
    o.held.gateway = gateway;
    return { credential, gateway };
  } catch (err) {
    return { err };
  }
}
