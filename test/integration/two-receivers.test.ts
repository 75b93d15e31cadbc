import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { spawnPushci, type PushciProcess } from '../helpers/process.ts';
import { waitFor } from '../helpers/receiver.ts';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.ts';

describe('two receiver processes behind one load balancer', () => {
  let redis: TestRedis;
  const servers: Array<PushciProcess & { base: string }> = [];
  before(async () => {
    redis = await startRedis();
    const pipelines = mkdtempSync(join(tmpdir(), 'pushci-two-'));
    writeFileSync(
      join(pipelines, 'p.yml'),
      "repository: octo-org/web\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n",
    );
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const p = spawnPushci(['serve', '--no-worker'], {
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: redis.url,
        PUSHCI_QUEUE_PREFIX: redis.prefix,
        PUSHCI_PIPELINES: pipelines,
        PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-two-data-')),
        GITHUB_WEBHOOK_SECRET: 's',
      });
      servers.push({ ...p, base: `http://127.0.0.1:${port}` });
    }
    for (const s of servers)
      // Start-up includes the heap compaction (PUSHCI_COMPACT_HEAP): seconds on a loaded machine.
      await waitFor(() => s.output.join('').includes('pushci is listening'), 60_000, 'a receiver to listen');
  });
  after(async () => {
    for (const s of servers) s.proc.kill('SIGKILL');
    await redis?.stop();
  });

  it('creates one build per delivery when both receive it at once', async () => {
    const deliveries = Array.from({ length: 40 }, () => randomUUID());
    const sha = 'c'.repeat(40);
    const results = await Promise.all(
      deliveries.map(async (d) => {
        const payload = githubPush({ before: sha, after: sha });
        const [a, b] = await Promise.all(
          servers.map((s) => sendGithub(s.base, payload, 's', { 'x-github-delivery': d })),
        );
        return [a!, b!] as const;
      }),
    );
    let duplicates = 0;
    for (const [a, b] of results) {
      assert.deepEqual([a.status, b.status].sort(), [200, 202], `${a.text} / ${b.text}`);
      const dup = a.status === 200 ? a : b;
      assert.equal(dup.json.duplicate, true);
      duplicates++;
      assert.deepEqual(
        a.json.builds.map((x: { id: string }) => x.id),
        b.json.builds.map((x: { id: string }) => x.id),
      );
    }
    const client = new Redis(redis.url);
    const stored = await client.zcard(`${redis.prefix}:index:builds`);
    client.disconnect();
    console.log(
      `two receivers: deliveries ${deliveries.length}, builds ${stored}, duplicates answered ${duplicates}`,
    );
    assert.equal(stored, deliveries.length);
  });
});
