import { SECRET_ENV_PREFIX } from '../pipelines/expressions.ts';
import { matchesList } from '../pipelines/glob.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import type { BuildMeta } from '../queue/build-record.ts';

/** A build of a fork's pull request runs code nobody with access to this server wrote. */
export function fromFork(meta: Pick<BuildMeta, 'pull_request'>): boolean {
  return meta.pull_request?.fork === true;
}

/**
 * Whether a build may read `${{ secrets.NAME }}`: never from a fork; otherwise as the pipeline's
 * `secrets:` scope says (events, with a re-run counting as its original event; branches, with a pull
 * request counting as its target branch), and always when the pipeline does not scope it.
 */
export function secretAllowed(def: Pick<Pipeline, 'secretScopes'>, meta: BuildMeta, name: string): boolean {
  if (fromFork(meta)) return false;
  const scope = def.secretScopes?.[name];
  if (!scope) return true;
  if (scope.events && !scope.events.includes(meta.event === 'rerun' ? meta.original_event : meta.event))
    return false;
  const branch = meta.pull_request ? meta.pull_request.target_branch : meta.branch;
  if (scope.branches && (branch === null || !matchesList(scope.branches, branch))) return false;
  return true;
}

/**
 * The server environment as a build's templates see it: every secret it may not read is there but
 * empty, so a step that prints it prints nothing and the pipeline still validates. Returns the names
 * withheld, for the job log.
 */
export function environmentFor(
  def: Pick<Pipeline, 'secretScopes'>,
  meta: BuildMeta,
  serverEnv: Readonly<Record<string, string>>,
): { env: Record<string, string>; withheld: string[] } {
  const env = { ...serverEnv };
  const withheld: string[] = [];
  for (const key of Object.keys(env)) {
    if (!key.startsWith(SECRET_ENV_PREFIX)) continue;
    const name = key.slice(SECRET_ENV_PREFIX.length);
    if (!secretAllowed(def, meta, name)) {
      env[key] = '';
      withheld.push(name);
    }
  }
  return { env, withheld };
}
