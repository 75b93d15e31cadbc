import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { applyRetention } from '../../src/maintenance/retention.ts';
import { keys } from '../../src/queue/keys.ts';
import { BuildStore } from '../../src/queue/store.ts';
import type { BuildView } from '../../src/model.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';

describe('retention', () => {
  const s = suiteServer({
    receiver: true,
    pipelines: (repo, receiver) => {
      const p = (name: string, run: string) =>
        `name: ${name}\nrepository: octo-org/${name}\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: ${run}\nnotify:\n  - url: ${receiver.url}\n    secret: \${{ env.CB }}\n`;
      return { 'quick.yml': p('quick', 'echo hi'), 'long.yml': p('long', 'sleep 30') };
    },
    env: { GITHUB_WEBHOOK_SECRET: 's', CB: whsec(), PUSHCI_KILL_GRACE_MS: '200' },
    close: () => client?.disconnect(),
  });
  let client: Redis;
  before(async () => {
    client = new Redis(s.redis.url);
  });

  const push = async (name: string) =>
    (
      await sendGithub(
        s.server.base,
        githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[0]!, repo: `octo-org/${name}` }),
        's',
      )
    ).json.builds[0].id as string;
  const view = async (id: string) => {
    const r = await s.server.api(`/api/builds/${id}`);
    return r.status === 200 ? ((await r.json()) as BuildView) : null;
  };

  it('trims finished builds by count and by age, with their logs, deliveries and index entries, never running ones', async () => {
    const k = keys(s.redis.prefix);
    const store = new BuildStore(client, k);
    const quick: string[] = [];
    for (let i = 0; i < 5; i++) quick.push(await push('quick'));
    const long = await push('long');
    for (const id of quick) await waitFor(async () => (await view(id))?.status === 'success', 20_000, id);
    await waitFor(async () => (await view(long))?.status === 'running', 20_000, 'long build');
    await waitFor(
      async () => (await client.zcard(k.buildDeliveries(quick[0]!))) >= 3,
      10_000,
      'delivery records',
    );
    await waitFor(
      async () => (await client.zcard(k.buildDeliveries(long))) >= 2,
      10_000,
      'delivery records of the running build',
    );
    assert.equal(await client.exists(k.log(quick[0]!, 'j')), 1);
    const listed = async () => {
      const r = await s.server.api('/api/builds?pipeline=quick&limit=100');
      return ((await r.json()) as { builds: BuildView[] }).builds.map((b) => b.id);
    };
    assert.deepEqual((await listed()).toSorted(), quick.toSorted());

    const byCount = await applyRetention(client, store, k, { maxAgeMs: 365 * 86400_000, maxBuilds: 3 });
    assert.equal(byCount.removed, 3);
    for (const id of quick.slice(0, 3)) assert.equal(await view(id), null, `${id} removed`);
    for (const id of quick.slice(3)) assert.ok(await view(id), `${id} kept`);
    assert.equal(await client.exists(k.log(quick[0]!, 'j')), 0, 'its log is gone');
    assert.equal(await client.exists(k.buildDeliveries(quick[0]!)), 0, 'its delivery records are gone');
    assert.deepEqual(await client.keys(k.delivery(`msg_${quick[0]}*`)), []);
    assert.equal(
      await client.zscore(k.pipelineIndex('quick'), quick[0]!),
      null,
      'gone from its pipeline index',
    );
    assert.deepEqual(await client.zrange(k.pipelineIndex('quick'), '0', '-1'), quick.slice(3));
    assert.deepEqual((await listed()).toSorted(), quick.slice(3).toSorted());
    assert.ok((await client.zcard(k.buildDeliveries(quick[3]!))) >= 3, 'a kept build keeps its deliveries');

    const byAge = await applyRetention(client, store, k, {
      maxAgeMs: 0,
      maxBuilds: 1000,
      now: Date.now() + 1000,
    });
    assert.equal(byAge.removed, 2);
    assert.equal((await view(long))?.status, 'running', 'a running build is never removed');
    assert.ok(
      (await client.zcard(k.buildDeliveries(long))) >= 2,
      'the running build keeps its delivery records',
    );
    const kept = await client.zrange(k.buildDeliveries(long), '0', '-1');
    for (const d of kept) assert.equal(await client.exists(k.delivery(d)), 1, d);
    assert.deepEqual(await client.zrange(k.pipelineIndex('quick'), '0', '-1'), []);
    assert.deepEqual(await client.zrange(k.pipelineIndex('long'), '0', '-1'), [long]);
  });
});
