import type { PushEvent } from '../core/event.ts';
import type { Glob } from './glob.ts';
import { matchesAny } from './glob.ts';
import { branchAllowed, refMatches, repositoryMatches, skipMarker, type ForgeEvent } from './match.ts';
import type { Pipeline, Trigger } from './pipeline.ts';

/** Why one pipeline did or did not take one push: what the "why" view shows. */
export interface MatchExplanation {
  pipeline: string;
  matched: boolean;
  /** In plain words: which rule decided. */
  reason: string;
}

const list = (globs: readonly Glob[] | null) =>
  `[${(globs ?? []).map((g) => `${g.negated ? '!' : ''}${g.pattern}`).join(', ')}]`;

/**
 * The reason behind `matchPipelines` for every pipeline: forge, repository, branch or tag rules, the
 * skip marker, and the path filters (which only a checkout can apply). Pure; `matched` agrees with
 * `matchPipelines` (a test holds them together).
 */
export function explainMatch(pipelines: readonly Pipeline[], event: ForgeEvent): MatchExplanation[] {
  return pipelines.map((p) => {
    const no = (reason: string) => ({ pipeline: p.name, matched: false, reason });
    if (event.kind !== 'pull_request' && event.deleted)
      return no(`${event.ref} was deleted; deletions start nothing`);
    const what = event.kind === 'pull_request' ? 'pull request' : 'push';
    if (p.forge !== null && p.forge !== event.forge)
      return no(`the pipeline is for ${p.forge}, the ${what} came from ${event.forge}`);
    if (!repositoryMatches(p.repository, event.repository))
      return no(`repository ${event.repository} does not match ${p.repository}`);
    const notes: string[] = [];
    const marker = skipMarker(event.headMessage);
    if (marker) notes.push(`the head commit says ${marker}: the build is stored as skipped`);
    if (event.kind === 'pull_request') {
      const t = p.pullRequest;
      if (!t) return no('the pipeline does not build pull requests (no pull_request in on:)');
      const pr = event.pullRequest;
      if (!t.types.includes(pr.action))
        return no(`pull request action ${pr.action} is not in types [${t.types.join(', ')}]`);
      if (!branchAllowed(t, pr.target_branch))
        return no(
          `target branch ${pr.target_branch} is ${t.branches ? `not in branches ${list(t.branches)}` : `excluded by branches-ignore ${list(t.branchesIgnore)}`}`,
        );
      if (t.paths || t.pathsIgnore)
        notes.push(
          `path filters ${t.paths ? `paths ${list(t.paths)}` : `paths-ignore ${list(t.pathsIgnore)}`} are applied to the whole pull request after checkout`,
        );
      return {
        pipeline: p.name,
        matched: true,
        reason: [`pull request #${pr.number} ${pr.action} into ${pr.target_branch} matches`, ...notes].join(
          '; ',
        ),
      };
    }
    if (!p.trigger) return no('the pipeline does not build pushes (no push in on:)');
    if (!refMatches(p.trigger, event)) return no(refReason(p.trigger, event));
    if (p.trigger.paths || p.trigger.pathsIgnore)
      notes.push(
        `path filters ${p.trigger.paths ? `paths ${list(p.trigger.paths)}` : `paths-ignore ${list(p.trigger.pathsIgnore)}`} are applied after checkout; the build is skipped if no changed file counts`,
      );
    const rule = event.branch !== undefined ? `branch ${event.branch}` : `tag ${event.tag}`;
    return { pipeline: p.name, matched: true, reason: [`${rule} matches`, ...notes].join('; ') };
  });
}

/** Whether a name matches one of the list's plain (not `!`) patterns. */
const positive = (globs: readonly Glob[], name: string) =>
  matchesAny(
    globs.filter((x) => !x.negated),
    name,
  );

function refReason(t: Trigger, event: PushEvent): string {
  const branchFilter = t.branches !== null || t.branchesIgnore !== null;
  const tagFilter = t.tags !== null || t.tagsIgnore !== null;
  if (event.branch !== undefined) {
    if (!branchFilter)
      return `a branch push, but the pipeline filters only tags ${list(t.tags ?? t.tagsIgnore)}`;
    if (t.branches && t.branchesIgnore === null && !positive(t.branches, event.branch))
      return `branch ${event.branch} is not in branches ${list(t.branches)}`;
    return `branch ${event.branch} is excluded by ${t.branches ? `branches ${list(t.branches)}` : `branches-ignore ${list(t.branchesIgnore)}`}`;
  }
  if (event.tag !== undefined) {
    if (!tagFilter)
      return `a tag push, but the pipeline filters only branches ${list(t.branches ?? t.branchesIgnore)}`;
    if (t.tags && t.tagsIgnore === null && !positive(t.tags, event.tag))
      return `tag ${event.tag} is not in tags ${list(t.tags)}`;
    return `tag ${event.tag} is excluded by ${t.tags ? `tags ${list(t.tags)}` : `tags-ignore ${list(t.tagsIgnore)}`}`;
  }
  return `${event.ref} is neither a branch nor a tag`;
}
