import type { Config } from '../config.ts';
import type { PullRequestInfo } from '../core/event.ts';
import type { ForgeName } from '../model.ts';
import { pullRequestRef } from './pull-request-ref.ts';
import { forgeNamed } from './registry.ts';

/** Where a pull request's head is fetched from: all of it made by pushci, none of it a URL from a payload. */
export interface PullRequestSource {
  /** The repository to fetch from: the pipeline's clone URL, or (Bitbucket forks) the fork's default one. */
  url: string;
  /** The ref there whose history holds the head. */
  ref: string;
  /** The mirror's ref it is fetched into, named from the number only. */
  local: string;
}

/** `owner/name` as Bitbucket spells workspaces and repositories: nothing that could leave the path. */
const REPOSITORY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\/[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Where a pull request's head comes from, or null when pushci cannot fetch it from anywhere it trusts:
 * - GitHub, Gitea, Forgejo, GitLab: the forge's pull request ref (`refs/pull/N/head`,
 *   `refs/merge-requests/N/head`) in the pipeline's own clone URL;
 * - Bitbucket Cloud, which serves no pull request refs: the source branch, in the pipeline's clone URL
 *   when the pull request is not from a fork, else in the fork's default clone URL
 *   (`PUSHCI_BITBUCKET_URL/<owner/name>.git`, built by pushci from the fork's checked name; never a link
 *   of the payload, and never with the pipeline's credentials). A deleted fork has no source.
 */
export function pullRequestSource(
  forge: ForgeName,
  pr: PullRequestInfo,
  cloneUrl: string,
  config: Readonly<Config>,
): PullRequestSource | null {
  const ref = pullRequestRef(forge, pr.number);
  if (ref) return { url: cloneUrl, ref, local: `refs/pushci/${ref.slice('refs/'.length)}` };
  if (forge !== 'bitbucket' || !Number.isSafeInteger(pr.number) || pr.number < 1) return null;
  const local = `refs/pushci/pull-requests/${pr.number}/from`;
  const branch = `refs/heads/${pr.source_branch}`;
  if (!pr.fork) return { url: cloneUrl, ref: branch, local };
  const name = pr.head_repository;
  if (!REPOSITORY.test(name) || name.split('/').some((part) => part.endsWith('.git') || part.includes('..')))
    return null;
  return { url: forgeNamed('bitbucket').cloneUrl(config, name), ref: branch, local };
}
