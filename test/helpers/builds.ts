import assert from 'node:assert/strict';
import { loadPipelineSource } from '../../src/pipelines/load-pipeline-source.ts';
import type { Pipeline } from '../../src/pipelines/pipeline.ts';
import type { NewBuild } from '../../src/queue/build-record.ts';

/** Pipeline `web` for octo-org/web: one job, `build`, whose one step runs `run`. */
export function webPipeline(run: string): Pipeline {
  const text = `name: web\nrepository: octo-org/web\non: push\njobs:\n  build:\n    steps:\n      - run: ${run}\n`;
  const { pipeline } = loadPipelineSource('web.yml', Buffer.from(text), {});
  assert.ok(pipeline);
  return pipeline;
}

let n = 0;

/**
 * A queued build of `def` (pushed to octo-org/web main) as the intake hands it to BuildStore.create,
 * with ids that sort by creation. `queueNow` and `announce` default to none.
 */
export function newBuild(
  def: Pipeline,
  o: { at?: number; queueNow?: string[]; announce?: boolean } = {},
): NewBuild {
  const id = `b${String(n++).padStart(6, '0')}`;
  return {
    meta: {
      id,
      pipeline: def.name,
      forge: 'github',
      repository: 'octo-org/web',
      ref: 'refs/heads/main',
      branch: 'main',
      tag: null,
      sha: 'a'.repeat(40),
      before: 'b'.repeat(40),
      message: 'a commit',
      pusher: 'octocat',
      delivery_id: `d-${id}`,
      event: 'push',
      rerun_of: null,
      original_event: 'push',
      pull_request: null,
      cron: null,
      inputs: {},
      created_at: new Date(o.at ?? Date.now()).toISOString(),
    },
    def,
    status: 'queued',
    reason: null,
    jobStatus: Object.fromEntries(def.jobs.map((j) => [j.name, 'queued'])),
    group: null,
    queueNow: o.queueNow ?? [],
    announce: o.announce
      ? `{"type":"build.queued","id":"${id}","pipeline":"${def.name}","status":"queued","number":`
      : null,
  };
}
