import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { githubPush, githubSignature, gitlabPush, post, whsec } from '../helpers/payloads.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const SIGNING = whsec();

/** Standard Webhooks headers for exactly these bytes (the library signs strings, so sign by hand). */
function signed(body: Buffer, id = `msg_${randomUUID()}`, when = new Date()) {
  const ts = Math.floor(when.getTime() / 1000);
  const key = Buffer.from(SIGNING.slice(6), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` };
}

describe('signatures over the exact received bytes; GitLab de-duplicates by the signed webhook-id', () => {
  const s = suiteServer({
    history: [{ 'a.txt': '1' }],
    pipelines: (repo) => ({
      'web.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: 'gh-secret', GITLAB_WEBHOOK_SIGNING_TOKEN: SIGNING },
  });

  const githubBody = () =>
    Buffer.from(
      JSON.stringify(githubPush({ before: '0'.repeat(40), after: s.repo.commits[0]!, repo: 'octo-org/web' })),
    );
  const gitlabBody = () =>
    Buffer.from(
      JSON.stringify(gitlabPush({ before: '0'.repeat(40), after: s.repo.commits[0]!, repo: 'octo-org/web' })),
    );
  const github = (body: Buffer, signature: string) =>
    post(`${s.server.base}/webhooks/github`, body, {
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': signature,
    });
  const gitlab = (body: Buffer, headers: Record<string, string>) =>
    post(`${s.server.base}/webhooks/gitlab`, body, { 'x-gitlab-event': 'Push Hook', ...headers });

  it('GitHub: a UTF-8 BOM in front of the signed bytes fails verification', async () => {
    const body = githubBody();
    const sig = githubSignature(body, 'gh-secret');
    const forged = await github(Buffer.concat([BOM, body]), sig);
    assert.equal(forged.status, 401, forged.text);
    assert.equal(forged.json.error, 'signature_mismatch');
    // Control: the same bytes as signed pass, and so does a BOM the sender itself signed.
    assert.equal((await github(body, sig)).status, 202);
    const withBom = Buffer.concat([BOM, body]);
    const own = await github(withBom, githubSignature(withBom, 'gh-secret'));
    assert.equal(own.status, 202, own.text);
  });

  it('GitLab signing: a BOM, or one invalid byte swapped for another, fails verification', async () => {
    const body = gitlabBody();
    const headers = signed(body);
    const bom = await gitlab(Buffer.concat([BOM, body]), headers);
    assert.equal(bom.status, 401, bom.text);
    assert.equal(bom.json.error, 'signature_mismatch');
    // Two invalid UTF-8 bytes decode to the same U+FFFD: a string-based check cannot tell them apart.
    const a = Buffer.concat([body.subarray(0, -1), Buffer.from([0xff]), body.subarray(-1)]);
    const b = Buffer.concat([body.subarray(0, -1), Buffer.from([0xfe]), body.subarray(-1)]);
    const swapped = await gitlab(b, signed(a));
    assert.equal(swapped.status, 401, swapped.text);
    const ok = await gitlab(body, headers);
    assert.equal(ok.status, 202, ok.text);
  });

  it('GitLab signing: the same signed delivery with a new Idempotency-Key is a duplicate, not a second build', async () => {
    const body = gitlabBody();
    const headers = signed(body);
    const first = await gitlab(body, { ...headers, 'idempotency-key': randomUUID() });
    assert.equal(first.status, 202, first.text);
    const replay = await gitlab(body, {
      ...headers,
      'idempotency-key': randomUUID(),
      'x-gitlab-event-uuid': randomUUID(),
    });
    assert.equal(replay.status, 200, replay.text);
    assert.equal(replay.json.duplicate, true);
    assert.deepEqual(
      replay.json.builds.map((b: { id: string }) => b.id),
      first.json.builds.map((b: { id: string }) => b.id),
    );
    // Control: a new signed delivery (new webhook-id) of the same push builds again.
    const next = await gitlab(body, signed(body));
    assert.equal(next.status, 202, next.text);
    assert.notEqual(next.json.builds[0].id, first.json.builds[0].id);
  });

  it('the library signature the forge tests use still verifies (interoperability)', async () => {
    const body = gitlabBody();
    const id = `msg_${randomUUID()}`;
    const when = new Date();
    const r = await gitlab(body, {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(when.getTime() / 1000)),
      'webhook-signature': new Webhook(SIGNING).sign(id, when, body.toString('utf8')),
    });
    assert.equal(r.status, 202, r.text);
  });
});
