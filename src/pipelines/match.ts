import type { PullRequestEvent, PushEvent } from '../core/event.ts';
import { compileGlob, matchesAny, matchesList, type Glob } from './glob.ts';
import type { NotifyDef, Pipeline, PullRequestTrigger, Trigger } from './pipeline.ts';

/** What a webhook can start: a push (branch or tag) or a pull request. */
export type ForgeEvent = PushEvent | PullRequestEvent;

/**
 * Pure matching, GitHub Actions' semantics: branch filters alone mean tags never run and the other way
 * round; no ref filter means both run; a deleted ref never runs. A pull request matches `on.pull_request`
 * by its action and its target branch. Path filters need the changed files, which only a checkout
 * knows, so they are applied by `pathsAllow` once the runner has them.
 */
export function matchPipelines(pipelines: readonly Pipeline[], event: ForgeEvent): Pipeline[] {
  if (event.kind !== 'pull_request' && event.deleted) return [];
  return pipelines.filter(
    (p) =>
      (p.forge === null || p.forge === event.forge) &&
      repositoryMatches(p.repository, event.repository) &&
      (event.kind === 'pull_request'
        ? !!p.pullRequest && pullRequestMatches(p.pullRequest, event)
        : p.trigger !== null && refMatches(p.trigger, event)),
  );
}

/** A pull request's action is one of `types`, and its target branch passes the branch filters. */
export function pullRequestMatches(t: PullRequestTrigger, event: PullRequestEvent): boolean {
  return t.types.includes(event.pullRequest.action) && branchAllowed(t, event.pullRequest.target_branch);
}

export function branchAllowed(
  t: { branches: Glob[] | null; branchesIgnore: Glob[] | null },
  branch: string,
): boolean {
  if (t.branches && !matchesList(t.branches, branch)) return false;
  if (t.branchesIgnore && matchesAny(t.branchesIgnore, branch)) return false;
  return true;
}

/** Repository names compare case-insensitively, as forges treat them. */
export function repositoryMatches(pattern: string, repository: string): boolean {
  return compileGlob(pattern.toLowerCase()).test(repository.toLowerCase());
}

export function refMatches(t: Trigger, event: Pick<PushEvent, 'branch' | 'tag'>): boolean {
  const branchFilter = t.branches !== null || t.branchesIgnore !== null;
  const tagFilter = t.tags !== null || t.tagsIgnore !== null;
  if (event.branch !== undefined) {
    if (!branchFilter) return !tagFilter;
    if (t.branches && !matchesList(t.branches, event.branch)) return false;
    if (t.branchesIgnore && matchesAny(t.branchesIgnore, event.branch)) return false;
    return true;
  }
  if (event.tag !== undefined) {
    if (!tagFilter) return !branchFilter;
    if (t.tags && !matchesList(t.tags, event.tag)) return false;
    if (t.tagsIgnore && matchesAny(t.tagsIgnore, event.tag)) return false;
    return true;
  }
  return false;
}

/**
 * Whether path filters let a build run. `changed` is null when the change list is unknown: empty (a
 * new branch at an existing commit, an empty commit) or longer than the cap. Unknown never blocks a
 * build, so a path filter cannot silently swallow a push it could not judge.
 */
export function pathsAllow(
  t: Pick<Trigger, 'paths' | 'pathsIgnore'>,
  changed: readonly string[] | null,
): boolean {
  if (changed === null || changed.length === 0) return true;
  if (t.paths && !changed.some((f) => matchesList(t.paths!, f))) return false;
  if (t.pathsIgnore && changed.every((f) => matchesAny(t.pathsIgnore!, f))) return false;
  return true;
}

export function hasPathFilter(t: Pick<Trigger, 'paths' | 'pathsIgnore'> | null | undefined): boolean {
  return !!t && (t.paths !== null || t.pathsIgnore !== null);
}

const SKIP = /\[(?:skip ci|ci skip|no ci|skip actions|actions skip)\]/i;

/** The skip marker in a head commit message, if any (`[skip ci]` and GitHub's other spellings). */
export function skipMarker(message: string | null): string | null {
  return message ? (SKIP.exec(message)?.[0] ?? null) : null;
}

/** Whether an endpoint wants builds of this branch (`notify[].branches`); tag builds pass only without a filter. */
export function notifyWants(n: NotifyDef, branch: string | null): boolean {
  if (!n.branches) return true;
  return branch !== null && matchesList(n.branches, branch);
}
