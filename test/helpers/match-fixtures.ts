import type { PushEvent } from '../../src/core/event.ts';
import { parseGlob } from '../../src/pipelines/glob.ts';
import type { Pipeline, Trigger } from '../../src/pipelines/pipeline.ts';

/** Globs, parsed as a pipeline file's patterns are. */
export const globs = (...p: string[]) => p.map(parseGlob);

/** No filter at all: every branch and tag, every path. */
export const NO_TRIGGER: Trigger = {
  branches: null,
  branchesIgnore: null,
  tags: null,
  tagsIgnore: null,
  paths: null,
  pathsIgnore: null,
};

/** A pipeline for octo-org/web with no jobs: what matching looks at, and only that. */
export function matchPipeline(
  name: string,
  trigger: Partial<Trigger>,
  extra: Partial<Pipeline> = {},
): Pipeline {
  return {
    name,
    file: `${name}.yml`,
    repository: 'octo-org/web',
    cloneUrl: null,
    forge: null,
    trigger: { ...NO_TRIGGER, ...trigger },
    env: {},
    jobs: [],
    notify: [],
    concurrency: null,
    maxJobs: null,
    commitStatus: null,
    ...extra,
  };
}

/** A GitHub push (or tag push) of `ref` to octo-org/web. */
export function pushOf(ref: string, extra: Partial<PushEvent> = {}): PushEvent {
  const branch = ref.startsWith('refs/heads/') ? { branch: ref.slice(11) } : {};
  const tag = ref.startsWith('refs/tags/') ? { tag: ref.slice(10) } : {};
  return {
    kind: ref.startsWith('refs/tags/') ? 'tag' : 'push',
    forge: 'github',
    deliveryId: 'd',
    repository: 'octo-org/web',
    ref,
    ...branch,
    ...tag,
    before: 'a'.repeat(40),
    after: 'b'.repeat(40),
    deleted: false,
    created: false,
    forced: false,
    headMessage: null,
    pusher: null,
    ...extra,
  };
}
