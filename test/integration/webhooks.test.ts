import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import {
  ZERO,
  githubPush,
  githubSignature,
  gitlabPush,
  post,
  sendGithub,
  sendGitlab,
  whsec,
} from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import type { BuildView } from '../../src/model.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const SECRET = 'gh-secret-' + randomUUID();
const TOKEN = 'gl-token-' + randomUUID();
const CALLBACK = whsec();

describe('webhook to build to signed callback', () => {
  const s = suiteServer({
    history: [{ 'a.txt': 'first\n' }, { 'hello.txt': 'hello from the pushed commit\n' }],
    receiver: true,
    pipelines: (repo, receiver) => {
      const pipeline = (name: string, repository: string, on: string) => `
name: ${name}
repository: ${repository}
clone-url: ${repo.dir}
on:
${on}
env:
  FROM_PIPELINE: yes
jobs:
  build:
    steps:
      - run: |
          printf 'HEL%s %s\\n' LO "$(cat hello.txt)"
          env | sort | sed 's/^/ENV /'
  test:
    needs: [build]
    steps:
      - run: test -f hello.txt
notify:
  - url: ${receiver.url}
    secret: \${{ env.CALLBACK_SECRET }}
`;
      return {
        'gh.yml': pipeline('gh', 'octo-org/web', '  push:\n    branches: [main]'),
        'gl.yml': pipeline('gl', 'group/*', '  push:\n    branches: [main]'),
        'tags.yml': pipeline('tags', 'octo-org/web', '  push:\n    tags: ["v*"]'),
      };
    },
    env: {
      GITHUB_WEBHOOK_SECRET: `old-secret,${SECRET}`,
      GITLAB_WEBHOOK_TOKEN: TOKEN,
      CALLBACK_SECRET: CALLBACK,
      WORKER_ONLY_SECRET: 'must-not-leak-into-steps',
    },
  });

  const completed = (id: string) =>
    waitFor(
      () =>
        s.receiver.got
          .map((r) => JSON.parse(r.body))
          .find((b) => b.type === 'build.completed' && b.data.build.id === id),
      60_000,
      `build.completed of ${id}`,
    );

  // The step's own output, from its log (a sandboxed step cannot write to this test's files).
  const output = async (id: string, prefix: string) => {
    const text = await (await s.server.api(`/api/builds/${id}/jobs/build/log`)).text();
    return text
      .split('\n')
      .map((l) => l.indexOf(`${prefix} `))
      .flatMap((at, i) => (at >= 0 ? [text.split('\n')[i]!.slice(at + prefix.length + 1)] : []));
  };

  it('runs a signed GitHub push in the pushed commit and sends verified callbacks', async () => {
    const res = await sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[1]!, message: 'add hello' }),
      SECRET,
    );
    assert.equal(res.status, 202, res.text);
    assert.equal(res.json.builds.length, 1);
    const { id, pipeline, url } = res.json.builds[0];
    assert.equal(pipeline, 'gh');
    assert.match(url, new RegExp(`/api/builds/${id}$`));

    const done = await completed(id);
    assert.equal(done.data.build.status, 'success');
    assert.equal(done.data.build.sha, s.repo.commits[1]);
    assert.equal(done.data.build.before, s.repo.commits[0]);
    assert.deepEqual(
      done.data.build.jobs.map((j: { name: string; status: string; exit_code: number }) => [
        j.name,
        j.status,
        j.exit_code,
      ]),
      [
        ['build', 'success', 0],
        ['test', 'success', 0],
      ],
    );
    assert.deepEqual(await output(id, 'HELLO'), ['hello from the pushed commit']);

    const wh = new Webhook(CALLBACK);
    const mine = s.receiver.got.filter((r) => JSON.parse(r.body).data.build.id === id);
    for (const m of mine) {
      wh.verify(m.body, {
        'webhook-id': String(m.headers['webhook-id']),
        'webhook-timestamp': String(m.headers['webhook-timestamp']),
        'webhook-signature': String(m.headers['webhook-signature']),
      });
    }
    const types = mine.map((m) => JSON.parse(m.body).type).sort();
    assert.deepEqual(types, ['build.completed', 'build.queued', 'build.started']);
    assert.equal(new Set(mine.map((m) => m.headers['webhook-id'])).size, 3);
    const sent = JSON.parse(mine[0]!.body).data.build;
    assert.equal(sent.event, 'push');
    assert.equal(sent.pull_request, null);

    const api = await s.server.api(`/api/builds/${id}`);
    assert.equal(api.status, 200);
    const view = (await api.json()) as BuildView;
    // The API's build is the payload's, plus its forge links and whether a cancel is under way.
    assert.deepEqual(
      Object.keys(view).sort(),
      [...Object.keys(done.data.build), 'canceling', 'links'].sort(),
    );
    assert.equal(view.status, 'success');
  });

  it('gives steps the CI variables and the pipeline env, and nothing else of the worker', async () => {
    const res = await sendGithub(
      s.server.base,
      githubPush({
        before: s.repo.commits[0]!,
        after: s.repo.commits[1]!,
        message: 'env $(touch /tmp/pwned) `id`',
      }),
      SECRET,
    );
    const { id } = res.json.builds[0];
    await completed(id);
    const env = Object.fromEntries(
      (await output(id, 'ENV')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.equal(env.CI, 'true');
    assert.equal(env.CI_COMMIT_SHA, s.repo.commits[1]);
    assert.equal(env.CI_COMMIT_BEFORE_SHA, s.repo.commits[0]);
    assert.equal(env.CI_COMMIT_REF, 'refs/heads/main');
    assert.equal(env.CI_COMMIT_BRANCH, 'main');
    assert.equal(env.CI_REPO, 'octo-org/web');
    assert.equal(env.CI_FORGE, 'github');
    assert.equal(env.CI_PIPELINE_NAME, 'gh');
    assert.equal(env.CI_BUILD_ID, id);
    assert.match(env.CI_BUILD_NUMBER!, /^\d+$/);
    assert.equal(env.CI_JOB_NAME, 'build');
    assert.equal(env.CI_PIPELINE_EVENT, 'push');
    assert.equal(env.CI_COMMIT_PULL_REQUEST, undefined, 'pull request variables only for pull requests');
    assert.ok(env.CI_WORKSPACE!.startsWith(s.server.config.dataDir));
    assert.equal(env.FROM_PIPELINE, 'yes');
    assert.equal(env.WORKER_ONLY_SECRET, undefined);
    assert.equal(env.GITHUB_WEBHOOK_SECRET, undefined);
    assert.equal(env.CALLBACK_SECRET, undefined);
    // Nothing about the server: no worker pid, no marker, no Redis.
    for (const k of Object.keys(env))
      assert.doesNotMatch(k, /^(PUSHCI_(?!$)|REDIS)/, `${k} reached the step`);
    assert.equal(env.TMPDIR, '/tmp');
  });

  it('runs a GitLab push with the right token', async () => {
    const res = await sendGitlab(
      s.server.base,
      gitlabPush({ before: s.repo.commits[0]!, after: s.repo.commits[1]!, repo: 'group/app' }),
      TOKEN,
    );
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(
      res.json.builds.map((b: { pipeline: string }) => b.pipeline),
      ['gl'],
    );
    const done = await completed(res.json.builds[0].id);
    assert.equal(done.data.build.status, 'success');
    assert.equal(done.data.build.forge, 'gitlab');
    assert.deepEqual(await output(done.data.build.id, 'HELLO'), ['hello from the pushed commit']);
  });

  it('runs only tag pipelines for a tag push, and nothing for a branch deletion', async () => {
    const tag = await sendGithub(
      s.server.base,
      githubPush({ ref: 'refs/tags/v1.0.0', before: ZERO, after: s.repo.commits[1]! }),
      SECRET,
    );
    assert.equal(tag.status, 202, tag.text);
    assert.deepEqual(
      tag.json.builds.map((b: { pipeline: string }) => b.pipeline),
      ['tags'],
    );
    const nomatch = await sendGithub(
      s.server.base,
      githubPush({ ref: 'refs/tags/release', before: ZERO, after: s.repo.commits[1]! }),
      SECRET,
    );
    assert.equal(nomatch.status, 200);
    assert.deepEqual(nomatch.json.builds, []);
    assert.match(nomatch.json.reason, /no pipeline matches/);
    const deleted = await sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[1]!, after: ZERO }),
      SECRET,
    );
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.json.builds, []);
    assert.match(deleted.json.reason, /deleted/);
    const otherRepo = await sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[1]!, repo: 'someone/else' }),
      SECRET,
    );
    assert.equal(otherRepo.status, 200);
    assert.deepEqual(otherRepo.json.builds, []);
  });

  it('refuses unsigned, wrongly signed, malformed and oversized requests with JSON reasons', async () => {
    const body = JSON.stringify(githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[1]! }));
    const h = { 'x-github-event': 'push', 'x-github-delivery': randomUUID() };
    const cases: Array<[string, Promise<{ status: number; json: any }>, number, string]> = [
      ['unsigned', post(`${s.server.base}/webhooks/github`, body, h), 401, 'signature_missing'],
      [
        'wrong secret',
        post(`${s.server.base}/webhooks/github`, body, {
          ...h,
          'x-hub-signature-256': githubSignature(body, 'nope'),
        }),
        401,
        'signature_mismatch',
      ],
      [
        'signature of another body',
        post(`${s.server.base}/webhooks/github`, body + ' ', {
          ...h,
          'x-hub-signature-256': githubSignature(body, SECRET),
        }),
        401,
        'signature_mismatch',
      ],
      [
        'sha1 prefix',
        post(`${s.server.base}/webhooks/github`, body, {
          ...h,
          'x-hub-signature-256': githubSignature(body, SECRET).replace('sha256', 'sha1'),
        }),
        401,
        'signature_mismatch',
      ],
      [
        'truncated JSON, signed',
        post(`${s.server.base}/webhooks/github`, body.slice(0, 50), {
          ...h,
          'x-hub-signature-256': githubSignature(body.slice(0, 50), SECRET),
        }),
        400,
        'malformed_payload',
      ],
      [
        'JSON array, signed',
        post(`${s.server.base}/webhooks/github`, '[1]', {
          ...h,
          'x-hub-signature-256': githubSignature('[1]', SECRET),
        }),
        400,
        'malformed_payload',
      ],
      [
        'bad ref, signed',
        (() => {
          const b = JSON.stringify(
            githubPush({
              ref: 'refs/heads/../../etc',
              before: s.repo.commits[0]!,
              after: s.repo.commits[1]!,
            }),
          );
          return post(`${s.server.base}/webhooks/github`, b, {
            ...h,
            'x-hub-signature-256': githubSignature(b, SECRET),
          });
        })(),
        400,
        'malformed_payload',
      ],
      [
        'gitlab without token',
        post(`${s.server.base}/webhooks/gitlab`, '{}', { 'x-gitlab-event': 'Push Hook' }),
        401,
        'signature_missing',
      ],
      [
        'gitlab wrong token',
        post(`${s.server.base}/webhooks/gitlab`, '{}', {
          'x-gitlab-event': 'Push Hook',
          'x-gitlab-token': 'wrong',
        }),
        401,
        'signature_mismatch',
      ],
      ['unknown forge', post(`${s.server.base}/webhooks/nope`, '{}', {}), 404, 'not_found'],
    ];
    for (const [name, res, status, code] of cases) {
      const r = await res;
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json?.error, code, name);
      assert.equal(typeof r.json.message, 'string', name);
    }
  });

  it('refuses a body over the limit with 413, declared or streamed', async () => {
    const big = Buffer.alloc(26 * 1024 * 1024, 'a');
    const r = await post(`${s.server.base}/webhooks/github`, big, {
      'x-github-event': 'push',
      'x-hub-signature-256': githubSignature(big, SECRET),
    });
    assert.equal(r.status, 413);
    assert.equal(r.json.error, 'payload_too_large');
    // Chunked, so no Content-Length to judge by: counted while streaming.
    const chunks = (async function* () {
      for (let i = 0; i < 27; i++) yield Buffer.alloc(1024 * 1024, 'b');
    })();
    const res = await fetch(`${s.server.base}/webhooks/github`, {
      method: 'POST',
      body: ReadableStreamFrom(chunks),
      headers: { 'x-github-event': 'push', 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) },
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
  });

  it('answers ping with 200 and other events with 202 ignored', async () => {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const ping = await post(`${s.server.base}/webhooks/github`, body, {
      'x-github-event': 'ping',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': githubSignature(body, SECRET),
    });
    assert.equal(ping.status, 200);
    const issue = await post(`${s.server.base}/webhooks/github`, body, {
      'x-github-event': 'issues',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': githubSignature(body, SECRET),
    });
    assert.equal(issue.status, 202);
    assert.equal(issue.json.reason, 'ignored: issues');
  });
});

function ReadableStreamFrom(it: AsyncIterable<Buffer>): ReadableStream<Uint8Array> {
  const iter = it[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(c) {
      const { value, done } = await iter.next();
      if (done) c.close();
      else c.enqueue(new Uint8Array(value));
    },
  });
}
