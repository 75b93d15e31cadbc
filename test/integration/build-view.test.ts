import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { githubPush, gitlabPush, sendGithub, sendGitlab, whsec } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';

describe('the build as people see it: html_url, forge links, raw logs, the event filter', () => {
  const s = suiteServer({
    history: [{ 'a.txt': '1' }, { 'a.txt': '2' }],
    receiver: true,
    pipelines: (repo, receiver) => {
      const job = 'jobs:\n  hello:\n    steps:\n      - run: echo hello\n';
      return {
        'web.yml': `name: web\nrepository: octo-org/web\nclone-url: ${repo.dir}\non: push\nnotify:\n  - url: ${receiver.url}\n    secret: \${{ env.CALLBACK_SECRET }}\n    events: [build.completed]\n${job}`,
        'lab.yml': `name: lab\nforge: gitlab\nrepository: group/app\nclone-url: ${repo.dir}\non: push\n${job}`,
      };
    },
    env: {
      GITHUB_WEBHOOK_SECRET: 's',
      GITLAB_WEBHOOK_TOKEN: 'g',
      CALLBACK_SECRET: whsec(),
      PUSHCI_GITLAB_URL: 'https://gitlab.example.com/',
    },
  });
  const get = async (path: string) => (await (await s.server.api(path)).json()) as any;

  it('links the build page (html_url) next to the API url, in the API and in outbound payloads', async () => {
    const sent = await sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[1]!, repo: 'octo-org/web' }),
      's',
    );
    const id = sent.json.builds[0].id as string;
    const b = await get(`/api/builds/${id}`);
    assert.equal(b.url, `${s.server.config.publicUrl}/api/builds/${id}`);
    assert.equal(b.html_url, `${s.server.config.publicUrl}/#/builds/${id}`);
    assert.deepEqual(b.links, {
      repository: 'https://github.com/octo-org/web',
      commit: `https://github.com/octo-org/web/commit/${s.repo.commits[1]}`,
      branch: 'https://github.com/octo-org/web/tree/main',
      tag: null,
      pull_request: null,
    });
    await waitFor(() => s.receiver.got.length > 0, 30_000, 'the build.completed delivery');
    const body = JSON.parse(s.receiver.got[0]!.body);
    assert.equal(body.data.build.html_url, `${s.server.config.publicUrl}/#/builds/${id}`);
    assert.equal(body.data.build.links, undefined, 'links are the API’s, not part of the payload');
    const doc = await (await fetch(`${s.server.base}/openapi.json`)).json();
    assert.ok(JSON.stringify(doc).includes('"html_url"'), 'the OpenAPI document describes html_url');
  });

  it('takes forge links from the forge’s web URL setting; a tag links to the tag', async () => {
    const sent = await sendGitlab(
      s.server.base,
      gitlabPush({
        ref: 'refs/tags/v1.2',
        before: '0'.repeat(40),
        after: s.repo.commits[1]!,
        repo: 'group/app',
      }),
      'g',
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    const id = sent.json.builds[0].id as string;
    const b = await get(`/api/builds/${id}`);
    assert.equal(b.links.tag, 'https://gitlab.example.com/group/app/-/tags/v1.2');
    assert.equal(b.links.commit, `https://gitlab.example.com/group/app/-/commit/${s.repo.commits[1]}`);
    assert.equal(b.links.branch, null);
  });

  it('filters the builds list by event', async () => {
    const tags = await get('/api/builds?event=tag');
    assert.deepEqual(
      tags.builds.map((b: any) => b.pipeline),
      ['lab'],
    );
    const pushes = await get('/api/builds?event=push');
    assert.deepEqual(
      pushes.builds.map((b: any) => b.pipeline),
      ['web'],
    );
    assert.deepEqual((await get('/api/builds?event=manual')).builds, []);
  });

  it('downloads a log as a file', async () => {
    const [b] = (await get('/api/builds?pipeline=web')).builds;
    await waitFor(async () => (await get(`/api/builds/${b.id}`)).status === 'success', 30_000, 'the build');
    const res = await s.server.api(`/api/builds/${b.id}/jobs/hello/log?download=1`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="web-1-hello.log"');
    assert.match(await res.text(), /Z {3}hello\n/);
  });
});
