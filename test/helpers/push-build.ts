import assert from 'node:assert/strict';
import type { BuildView } from '../../src/model.ts';
import { githubPush, sendGithub } from './payloads.ts';
import { waitFor } from './receiver.ts';
import type { TestServer } from './server.ts';

const ENDED = ['success', 'failure', 'error', 'canceled'];

/**
 * Pushes `sha` to `octo-org/<name>` as a signed GitHub webhook (before = after: no path filter applies),
 * and waits until its one build has ended.
 */
export async function pushAndWait(
  server: TestServer,
  o: { name: string; sha: string; secret: string; timeoutMs: number },
): Promise<BuildView> {
  const res = await sendGithub(
    server.base,
    githubPush({ before: o.sha, after: o.sha, repo: `octo-org/${o.name}` }),
    o.secret,
  );
  assert.equal(res.status, 202, res.text);
  const id = res.json.builds[0].id as string;
  return waitFor(
    async () => {
      const b = (await (await server.api(`/api/builds/${id}`)).json()) as BuildView;
      return ENDED.includes(b.status) ? b : null;
    },
    o.timeoutMs,
    `build ${id}`,
  );
}

/** A job's log as the API serves it (text). */
export async function jobLog(server: TestServer, id: string, job: string): Promise<string> {
  return (await server.api(`/api/builds/${id}/jobs/${job}/log`)).text();
}
