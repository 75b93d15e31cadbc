import type { Config } from '../config.ts';
import { forgeNamed } from '../forges/registry.ts';
import type { ForgeName } from '../model.ts';
import { resolveTemplate } from '../pipelines/expressions.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';

/**
 * The URL a build fetches from: the pipeline's `clone-url` (its `${{ }}` resolved, secrets collected for
 * masking), else the forge's default for the repository. Never from a payload.
 */
export function cloneUrlFor(
  def: Pick<Pipeline, 'cloneUrl'>,
  forge: ForgeName,
  repository: string,
  config: Readonly<Config>,
  secrets?: Set<string>,
): string {
  if (def.cloneUrl) return resolveTemplate(def.cloneUrl, config.env, secrets);
  return forgeNamed(forge).cloneUrl(config, repository);
}
