import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { spawnPushci } from '../helpers/process.ts';
import { waitFor, type Received } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const TOKEN = 'cli-endpoints-token';
const verifies = (secret: string, m: Received) => {
  try {
    new Webhook(secret).verify(m.body, {
      'webhook-id': String(m.headers['webhook-id']),
      'webhook-timestamp': String(m.headers['webhook-timestamp']),
      'webhook-signature': String(m.headers['webhook-signature']),
    });
    return true;
  } catch {
    return false;
  }
};

describe('pushci endpoints (the CLI, as a real process)', () => {
  const s = suiteServer({
    receiver: true,
    pipelines: (repo, receiver) => {
      return {
        'web.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_API_TOKEN: TOKEN },
  });

  const cli = async (...args: string[]) => {
    const p = spawnPushci(['endpoints', ...args], { PUSHCI_URL: s.server.base, PUSHCI_API_TOKEN: TOKEN });
    const code = await p.exited;
    return { code, out: p.output.join('') };
  };

  let id = '';
  let secret = '';

  it('add registers an endpoint and prints its secret once; list and show never do', async () => {
    const r = await cli(
      'add',
      s.receiver.url,
      '--events',
      'build.completed,job.completed',
      '--branches',
      'main',
      '--description',
      'release bot',
    );
    assert.equal(r.code, 0, r.out);
    id = /registered (ep_[0-9a-z]+)/.exec(r.out)?.[1] ?? '';
    secret = /\n\s+(whsec_\S+)/.exec(r.out)?.[1] ?? '';
    assert.ok(id && secret, r.out);
    assert.match(r.out, /shown only now/);

    const listed = await cli('list');
    assert.equal(listed.code, 0, listed.out);
    assert.match(listed.out, new RegExp(`${id}\\s+active\\s+api`));
    assert.ok(!listed.out.includes('whsec_'));
    const json = JSON.parse((await cli('list', '--json')).out) as { endpoints: Array<{ id: string }> };
    assert.ok(json.endpoints.some((e) => e.id === id));

    const build = (
      await sendGithub(
        s.server.base,
        githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[0]! }),
        's',
      )
    ).json.builds[0].id as string;
    const m = await waitFor(
      () => s.receiver.got.find((x) => x.headers['webhook-id'] === `msg_${build}_build.completed_${id}`),
      15_000,
      'build.completed',
    );
    assert.ok(verifies(secret, m));
    await waitFor(async () => (await cli('show', id)).out.includes('delivered'), 10_000, 'the log');
    const shown = await cli('show', id);
    assert.equal(shown.code, 0, shown.out);
    assert.match(shown.out, /description: release bot/);
    assert.match(shown.out, /branches:\s+main/);
    assert.match(shown.out, /delivered\s+build.completed\s+1\s+200/);
    assert.ok(!shown.out.includes('whsec_'));
  });

  it('refuses an internal address with the reason, and exits 1', async () => {
    const r = await cli('add', 'http://169.254.169.254/latest/meta-data/');
    assert.equal(r.code, 1);
    assert.match(r.out, /400: url: 169\.254\.169\.254 is an internal address/);
  });

  it('rotate, pause, resume, test and rm', async () => {
    const rotated = await cli('rotate', id, '--overlap', '1h');
    assert.equal(rotated.code, 0, rotated.out);
    const fresh = /\n\s+(whsec_\S+)/.exec(rotated.out)?.[1] ?? '';
    assert.ok(fresh && fresh !== secret, rotated.out);

    const paused = await cli('pause', id);
    assert.equal(paused.code, 0, paused.out);
    assert.match(paused.out, /kept and delivered on resume/);
    const resumed = await cli('resume', id);
    assert.equal(resumed.code, 0, resumed.out);
    assert.match(resumed.out, /resumed/);

    const before = s.receiver.got.length;
    const tested = await cli('test', id, '--type', 'job.completed');
    assert.equal(tested.code, 0, tested.out);
    assert.match(tested.out, /✔ msg_test_[0-9a-f]+: 200/);
    const m = s.receiver.got
      .slice(before)
      .find((x) => String(x.headers['webhook-id']).startsWith('msg_test_'))!;
    assert.ok(verifies(secret, m) && verifies(fresh, m), 'both secrets sign during the overlap');

    const removed = await cli('rm', id);
    assert.equal(removed.code, 0, removed.out);
    const gone = await cli('show', id);
    assert.equal(gone.code, 1);
    assert.match(gone.out, /404: no endpoint/);
    assert.equal((await cli('frobnicate')).code, 2);
    assert.match((await cli('--help')).out, /pushci endpoints add <url>/);
  });
});
