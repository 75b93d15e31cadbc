import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import type { BuildView } from '../../src/model.ts';

const KEY = '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQ\n-----END KEY-----';

describe('job logs', () => {
  const s = suiteServer({
    pipelines: (repo) => {
      const p = (name: string, run: string, env = '') =>
        `name: ${name}\nrepository: octo-org/${name}\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - ${env}run: |\n${run
          .split('\n')
          .map((l) => `          ${l}`)
          .join('\n')}\n`;
      return {
        'many.yml': p('many', 'seq 1 200000'),
        'big.yml': p('big', "seq 1 400000 | sed 's/^/a line that fills the log quickly /'"),
        'key.yml': p(
          'key',
          'printf "%s\\n" "$KEY"\necho "inline: $KEY" | tr "\\n" " "; echo',
          'env: { KEY: "${{ secrets.KEY }}" }\n        ',
        ),
        'slow.yml': p('slow', 'for i in 1 2 3 4 5; do echo "tick $i"; sleep 0.3; done'),
      };
    },
    env: {
      GITHUB_WEBHOOK_SECRET: 's',
      PUSHCI_SECRET_KEY: KEY,
      PUSHCI_LOG_MAX_BYTES: String(8 * 1024 * 1024),
    },
  });

  const run = async (name: string) => {
    const r = await sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[0]!, repo: `octo-org/${name}` }),
      's',
    );
    return r.json.builds[0].id as string;
  };
  const done = (id: string) =>
    waitFor(
      async () =>
        ((v) => (v.status !== 'queued' && v.status !== 'running' ? v : null))(
          (await (await s.server.api(`/api/builds/${id}`)).json()) as BuildView,
        ),
      60_000,
      id,
    );
  const log = async (id: string) => (await s.server.api(`/api/builds/${id}/jobs/j/log`)).text();

  it('keeps all 200,000 lines of a step, in order', async () => {
    const id = await run('many');
    assert.equal((await done(id)).status, 'success');
    const lines = (await log(id))
      .split('\n')
      .filter((l) => l.length > 27 && l[25] === ' ')
      .map((l) => l.slice(27));
    assert.equal(lines.length, 200_000);
    assert.equal(lines[0], '1');
    assert.equal(lines[199_999], '200000');
    assert.ok(lines.every((l, i) => l === String(i + 1)));
  });

  it('cuts a log at the cap and says so', async () => {
    const id = await run('big');
    assert.equal((await done(id)).status, 'success');
    const text = await log(id);
    assert.ok(text.length < 10 * 1024 * 1024, `log is ${text.length} bytes`);
    assert.match(
      text,
      /pushci: log cut at 8388608 bytes \(PUSHCI_LOG_MAX_BYTES\); \d+ more lines were not stored/,
    );
  });

  it('masks a multi-line secret, whole and line by line', async () => {
    const id = await run('key');
    assert.equal((await done(id)).status, 'success');
    const text = await log(id);
    assert.doesNotMatch(text, /MIIEvQ|BEGIN KEY|END KEY/);
    assert.match(text, /inline: \*{8}/);
    assert.equal((text.match(/\*{8}/g) ?? []).length >= 4, true);
  });

  it('follows a running job until it ends', async () => {
    const id = await run('slow');
    await waitFor(
      async () =>
        ((await (await s.server.api(`/api/builds/${id}`)).json()) as BuildView).status === 'running',
      10_000,
      'start',
    );
    const res = await s.server.api(`/api/builds/${id}/jobs/j/log?follow=1`);
    const reader = res.body!.getReader();
    const arrivals: Array<[number, string]> = [];
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      arrivals.push([Date.now(), decoder.decode(value)]);
    }
    const text = arrivals.map((a) => a[1]).join('');
    for (let i = 1; i <= 5; i++) assert.match(text, new RegExp(`tick ${i}`));
    assert.match(text, /succeeded/);
    assert.ok(arrivals.length >= 3, `lines arrived in ${arrivals.length} chunks, not as they were written`);
  });
});
