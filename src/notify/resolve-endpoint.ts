import type { Config } from '../config.ts';
import { UnresolvedReferenceError, resolveTemplate } from '../pipelines/expressions.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import { endpointId, type EndpointRef } from './emit.ts';
import type { EndpointStore, StoredEndpoint } from './endpoint-store.ts';
import { checkSecret } from './sign.ts';

/** Pipeline endpoints already resolved, by snapshot and index, per configuration (deps). */
const resolved = new WeakMap<ResolveDeps, Map<string, { url: string; secrets: string[] }>>();
const RESOLVED_KEPT = 1000;

/** The endpoint cannot be sent to (gone from the configuration, or configured wrongly): recorded, never retried. */
export class CannotSendError extends Error {}

export interface ResolveDeps {
  config: Pick<Config, 'notifyUrls' | 'notifySecrets' | 'env'>;
  /** Registered endpoints (their secrets decrypted only here, to sign). */
  endpoints: Pick<EndpointStore, 'signingSecrets'>;
  /** The pipeline snapshot a ref names (null when retention removed it). */
  definition(ref: string): Promise<Pipeline | null>;
  /** The build's own definition, for a build whose snapshot is gone or was stored inline. */
  buildDefinition(buildId: string): Promise<Pipeline | null>;
}

/**
 * The URL and signing secrets of the endpoint a delivery names, looked up now in pushci's own
 * configuration: the registered endpoint (`subscription`, passed in as the worker read it), the pipeline
 * snapshot (with `${{ }}` resolved from the server's environment, as the operator wrote it in the pipeline
 * file) or `PUSHCI_NOTIFY_URLS`/`PUSHCI_NOTIFY_SECRET`. Nothing from the job's data is ever treated as a
 * template.
 */
export async function resolveEndpoint(
  ref: EndpointRef,
  buildId: string,
  deps: ResolveDeps,
  subscription?: StoredEndpoint | null,
): Promise<{ url: string; secrets: string[] }> {
  if (ref.kind === 'subscription') {
    if (!subscription) throw new CannotSendError(`endpoint ${ref.id} was deleted`);
    const secrets = await deps.endpoints.signingSecrets(subscription.id);
    if (secrets.length === 0) throw new CannotSendError(`endpoint ${ref.id} has no secret`);
    return { url: subscription.url, secrets };
  }
  if (ref.kind === 'global') {
    const url = deps.config.notifyUrls.find((u) => endpointId('*', u) === ref.id);
    if (!url) throw new CannotSendError(`PUSHCI_NOTIFY_URLS no longer lists endpoint ${ref.id}`);
    return { url, secrets: deps.config.notifySecrets };
  }
  if (ref.kind !== 'pipeline' || !Number.isInteger(ref.index) || ref.index < 0)
    throw new CannotSendError('the delivery names no endpoint pushci knows');
  // A snapshot is named by its content's hash, so what it resolves to never changes in this process.
  let known = resolved.get(deps);
  if (!known) resolved.set(deps, (known = new Map()));
  const key = `${ref.snapshot}\n${ref.index}`;
  const hit = known.get(key);
  if (hit) return hit;
  const snapshot = await deps.definition(String(ref.snapshot));
  const def = snapshot ?? (await deps.buildDefinition(buildId));
  const n = def?.notify[ref.index];
  if (!n) throw new CannotSendError(`the pipeline this message was queued for (${ref.snapshot}) is gone`);
  try {
    const url = resolveTemplate(n.url, deps.config.env);
    const secrets = n.secrets.map((s) => resolveTemplate(s, deps.config.env));
    secrets.forEach(checkSecret);
    if (snapshot) {
      if (known.size >= RESOLVED_KEPT) known.clear();
      known.set(key, { url, secrets });
    }
    return { url, secrets };
  } catch (err) {
    throw new CannotSendError(
      err instanceof UnresolvedReferenceError
        ? err.message
        : `bad endpoint configuration: ${(err as Error).message}`,
    );
  }
}
