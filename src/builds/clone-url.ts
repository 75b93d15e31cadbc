import type { Config } from '../config.ts';
import type { ForgeName } from '../model.ts';
import { resolveTemplate } from '../pipelines/expressions.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';

/**
 * The URL a build fetches from: the pipeline's `clone-url` (its `${{ }}` resolved, secrets collected for
 * masking), else derived from the forge's base URL and the repository. Never from a payload.
 */
export function cloneUrlFor(
  def: Pick<Pipeline, 'cloneUrl'>,
  forge: ForgeName,
  repository: string,
  config: Pick<Config, 'env' | 'githubUrl' | 'gitlabUrl' | 'giteaUrl' | 'forgejoUrl' | 'bitbucketUrl'>,
  secrets?: Set<string>,
): string {
  if (def.cloneUrl) return resolveTemplate(def.cloneUrl, config.env, secrets);
  const base = {
    github: config.githubUrl,
    gitlab: config.gitlabUrl,
    gitea: config.giteaUrl,
    forgejo: config.forgejoUrl,
    bitbucket: config.bitbucketUrl,
  }[forge];
  return `${base.replace(/\/+$/, '')}/${repository}.git`;
}
