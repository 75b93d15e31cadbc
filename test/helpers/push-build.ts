import assert from 'node:assert/strict';
import type { BuildView } from '../../src/model.ts';
import { githubPush, sendGithub } from './payloads.ts';
import { waitFor } from './receiver.ts';
import type { TestServer } from './server.ts';

const ENDED = ['success', 'failure', 'error', 'canceled', 'skipped'];

/** The head of a pipeline file for `octo-org/<name>`, cloned from `cloneUrl`, built on push. */
export function pipelineHead(name: string, cloneUrl: string): string {
  return `name: ${name}\nrepository: octo-org/${name}\nclone-url: ${cloneUrl}\non: push\n`;
}

/**
 * Pushes `sha` to `octo-org/<name>` (on `ref`, main by default) as a signed GitHub webhook (before =
 * after: no path filter applies), asserts it was taken, and returns the id of its one build.
 */
export async function pushBuild(
  server: TestServer,
  o: { name: string; sha: string; secret: string; ref?: string },
): Promise<string> {
  const res = await sendGithub(
    server.base,
    githubPush({ ...(o.ref ? { ref: o.ref } : {}), before: o.sha, after: o.sha, repo: `octo-org/${o.name}` }),
    o.secret,
  );
  assert.equal(res.status, 202, res.text);
  return res.json.builds[0].id as string;
}

/** Build `id` as the API shows it now. */
export async function buildView(server: TestServer, id: string): Promise<BuildView> {
  return (await (await server.api(`/api/builds/${id}`)).json()) as BuildView;
}

/** Waits until build `id` has ended, and returns it. */
export function buildEnded(server: TestServer, id: string, timeoutMs: number): Promise<BuildView> {
  return waitFor(
    async () => {
      const b = await buildView(server, id);
      return ENDED.includes(b.status) ? b : null;
    },
    timeoutMs,
    `build ${id}`,
  );
}

/** pushBuild, then waits until its build has ended. */
export async function pushAndWait(
  server: TestServer,
  o: { name: string; sha: string; secret: string; timeoutMs: number; ref?: string },
): Promise<BuildView> {
  return buildEnded(server, await pushBuild(server, o), o.timeoutMs);
}

/** A job's log as the API serves it (text). */
export async function jobLog(server: TestServer, id: string, job: string): Promise<string> {
  return (await server.api(`/api/builds/${id}/jobs/${job}/log`)).text();
}

/** What follows `<prefix> ` on the first log line that holds it (a step's `echo "PREFIX value"`). */
export function logValue(text: string, prefix: string): string | undefined {
  const l = text.split('\n').find((x) => x.includes(`${prefix} `));
  return l?.slice(l.indexOf(`${prefix} `) + prefix.length + 1);
}
