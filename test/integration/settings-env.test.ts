import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { BuildView } from '../../src/model.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const TOKEN = 'api-token-that-must-not-leak';
const GITHUB_TOKEN = 'ghp_server_token_that_must_not_leak';

describe('a pushed pipeline cannot read pushci settings through ${{ env }}', () => {
  const cb = whsec();
  const s = suiteServer({
    receiver: true,
    pipelines: (repo, receiver) => {
      // Control: an ordinary server variable (as the shared smoke uses) and a secret, both used properly.
      return {
        'ok.yml': `name: ok\nrepository: octo-org/ok\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: echo "deploy with $DEPLOY"\n        env:\n          DEPLOY: \${{ secrets.DEPLOY }}\nnotify:\n  - url: ${receiver.url}\n    secret: \${{ env.SMOKE_CB }}\n    events: [build.completed]\n`,
      };
    },
    env: {
      GITHUB_WEBHOOK_SECRET: 's',
      GITHUB_TOKEN,
      PUSHCI_API_TOKEN: TOKEN,
      PUSHCI_SECRET_DEPLOY: 'the-deploy-key',
      SMOKE_CB: cb,
    },
  });

  const api = async (path: string) =>
    fetch(`${s.server.base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const push = (name: string) =>
    sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[0]!, repo: `octo-org/${name}` }),
      's',
    );

  it('refuses a hostile file with file:line:col errors and never builds it; ordinary env and secrets work', async () => {
    // The attack: a pushed pipeline file that sends the server's tokens to its own receiver.
    writeFileSync(
      join(s.server.config.pipelinesDir, 'steal.yml'),
      `name: steal\nrepository: octo-org/steal\nclone-url: ${s.repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: echo "$T $A $R $D"\n        env:\n          T: \${{ env.GITHUB_TOKEN }}\n          A: \${{ env.PUSHCI_API_TOKEN }}\n          R: \${{ env.REDIS_URL }}\n          D: \${{ env.PUSHCI_SECRET_DEPLOY }}\nnotify:\n  - url: ${s.receiver.url}?t=\${{ env.GITHUB_TOKEN }}\n    secret: \${{ env.GITHUB_WEBHOOK_SECRET }}\n`,
    );
    await waitFor(() => s.server.pipelines().files.some((f) => f.name === 'steal.yml'), 10_000, 'the reload');
    const files = (await (await api('/api/pipelines')).json()) as {
      files: Array<{ name: string; state: string; problems: Array<{ text: string }> }>;
    };
    const steal = files.files.find((f) => f.name === 'steal.yml')!;
    assert.equal(steal.state, 'none');
    const texts = steal.problems.map((p) => p.text);
    for (const [at, name] of [
      ['10:18', 'GITHUB_TOKEN'],
      ['11:18', 'PUSHCI_API_TOKEN'],
      ['12:18', 'REDIS_URL'],
      ['15:40', 'GITHUB_TOKEN'],
      ['16:13', 'GITHUB_WEBHOOK_SECRET'],
    ])
      assert.ok(
        texts.some((t) => t.includes(`steal.yml:${at}: \${{ env.${name} }} is one of pushci's own settings`)),
        `${name} at ${at} in:\n${texts.join('\n')}`,
      );
    assert.ok(texts.some((t) => /steal\.yml:13:18: .*write it as \$\{\{ secrets\.DEPLOY \}\}/.test(t)));
    assert.equal((await push('steal')).status, 200, 'no build from the hostile file');

    // Control: the good pipeline builds, its secret is masked, its ordinary env callback secret signs.
    const r = await push('ok');
    assert.equal(r.status, 202);
    const id = r.json.builds[0].id as string;
    await waitFor(
      async () => ((await (await api(`/api/builds/${id}`)).json()) as BuildView).status === 'success',
      30_000,
      'the good build',
    );
    const log = await (await api(`/api/builds/${id}/jobs/j/log`)).text();
    assert.match(log, /deploy with \*{8}/);
    assert.ok(!log.includes('the-deploy-key'));
    await waitFor(() => s.receiver.got.length > 0, 10_000, 'the callback');
    const all = s.receiver.got.map((g) => g.body + JSON.stringify(g.headers)).join('\n');
    for (const leaked of [GITHUB_TOKEN, TOKEN, 'the-deploy-key', s.redis.url])
      assert.ok(!all.includes(leaked));
    assert.ok(s.receiver.got.every((g) => !String(g.headers['user-agent'] ?? '').includes(GITHUB_TOKEN)));
  });
});
