import type { PushEvent } from '../core/event.ts';
import { compileGlob, matchesAny, matchesList } from './glob.ts';
import type { NotifyDef, Pipeline, Trigger } from './pipeline.ts';

/**
 * Pure matching, GitHub Actions' semantics: branch filters alone mean tags never run and the other way
 * round; no ref filter means both run; a deleted ref never runs. Path filters need the changed files,
 * which only a checkout knows, so they are applied by `pathsAllow` once the runner has them.
 */
export function matchPipelines(pipelines: readonly Pipeline[], event: PushEvent): Pipeline[] {
  if (event.deleted) return [];
  return pipelines.filter(
    (p) =>
      (p.forge === null || p.forge === event.forge) &&
      repositoryMatches(p.repository, event.repository) &&
      refMatches(p.trigger, event),
  );
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
export function pathsAllow(t: Trigger, changed: readonly string[] | null): boolean {
  if (changed === null || changed.length === 0) return true;
  if (t.paths && !changed.some((f) => matchesList(t.paths!, f))) return false;
  if (t.pathsIgnore && changed.every((f) => matchesAny(t.pathsIgnore!, f))) return false;
  return true;
}

export function hasPathFilter(t: Trigger): boolean {
  return t.paths !== null || t.pathsIgnore !== null;
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
