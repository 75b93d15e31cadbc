import type { Config } from '../config.ts';
import type { ForgeName } from '../model.ts';

/** Where a person sees a build's repository, commit, branch, tag and pull request on the forge. */
export interface WebLinks {
  repository: string;
  commit: string;
  branch: string | null;
  tag: string | null;
  pull_request: string | null;
}

interface Paths {
  commit: string;
  branch: string;
  tag: string;
  pull: string;
}

// Each forge's web paths under `<base>/<owner/name>`.
const PATHS: Record<ForgeName, Paths> = {
  github: { commit: 'commit', branch: 'tree', tag: 'releases/tag', pull: 'pull' },
  gitlab: { commit: '-/commit', branch: '-/tree', tag: '-/tags', pull: '-/merge_requests' },
  gitea: { commit: 'commit', branch: 'src/branch', tag: 'src/tag', pull: 'pulls' },
  forgejo: { commit: 'commit', branch: 'src/branch', tag: 'src/tag', pull: 'pulls' },
  bitbucket: { commit: 'commits', branch: 'src', tag: 'src', pull: 'pull-requests' },
};

/** The forge's web base URL from the settings (PUSHCI_GITHUB_URL, …). */
export function webBase(config: Readonly<Config>, forge: ForgeName): string {
  const base = {
    github: config.githubUrl,
    gitlab: config.gitlabUrl,
    gitea: config.giteaUrl,
    forgejo: config.forgejoUrl,
    bitbucket: config.bitbucketUrl,
  }[forge];
  return (base ?? '').replace(/\/+$/, '');
}

/** A ref name as a URL path: each segment encoded, the slashes kept. */
const refPath = (name: string) => name.split('/').map(encodeURIComponent).join('/');

/**
 * The build's links on its forge, or null when the forge has no http(s) web base. Built from the
 * configured base and the repository's name, never from URLs a payload carried.
 */
export function webLinks(
  base: string,
  forge: ForgeName,
  b: {
    repository: string;
    sha: string;
    branch: string | null;
    tag: string | null;
    pullRequest?: number | null;
  },
): WebLinks | null {
  const name = /^[\w.-]+(?:\/[\w.-]+)+$/.test(b.repository) && !/(?:^|\/)\.{1,2}(?:\/|$)/.test(b.repository);
  if (!/^https?:\/\//.test(base) || !name) return null;
  const p = PATHS[forge];
  const repo = `${base}/${b.repository}`;
  return {
    repository: repo,
    commit: `${repo}/${p.commit}/${encodeURIComponent(b.sha)}`,
    branch: b.branch ? `${repo}/${p.branch}/${refPath(b.branch)}` : null,
    tag: b.tag ? `${repo}/${p.tag}/${refPath(b.tag)}` : null,
    pull_request: b.pullRequest ? `${repo}/${p.pull}/${b.pullRequest}` : null,
  };
}
