import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { DELIVERIES_QUEUE, JOBS_QUEUE, SCHEDULES_QUEUE, keys, type Keys } from '../../src/queue/keys.ts';
import { MAINTENANCE_QUEUE } from '../../src/maintenance/maintenance.ts';
import type { BuildView } from '../../src/model.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const SRC = join(import.meta.dirname, '../../src');
const ARG = '\u0001';

/** A pattern per entry of the key map: arguments match anything; a hashed argument, 32 to 64 hex characters. */
function patterns(k: Keys): Array<[string, RegExp]> {
  const out: Array<[string, RegExp]> = [];
  for (const [name, value] of Object.entries(k)) {
    if (name === 'prefix') continue;
    const text =
      typeof value === 'string'
        ? value
        : (value as (...a: string[]) => string)(...Array<string>(value.length).fill(ARG));
    const source = text
      .split(ARG)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.+')
      .replace(/[0-9a-f]{32,64}$/, '[0-9a-f]{32,64}');
    out.push([name, new RegExp(`^${source}$`)]);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('the key map is the only place key names are made', () => {
  const s = suiteServer({
    receiver: true,
    pipelines: (repo, receiver) => ({
      'web.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\nconcurrency:\n  group: web\njobs:\n  a:\n    steps:\n      - run: echo hi\nnotify:\n  - url: ${receiver.url}\n    secret: \${{ env.CB }}\n`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: 's', CB: whsec() },
    close: () => client?.disconnect(),
  });
  let client: Redis;
  before(async () => {
    client = new Redis(s.redis.url);
  });

  it('no source file outside queue/keys.ts builds a key from the prefix', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(SRC)) {
      if (file.endsWith(join('queue', 'keys.ts'))) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/\$\{[\w.]*(prefix|Prefix)\}:/.test(line))
            offenders.push(`${relative(SRC, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(offenders, []);
  });

  it('every key a build, its deliveries, a webhook record, an endpoint and a worker leave is in the map', async () => {
    const res = await sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[0]!, repo: 'octo-org/web' }),
      's',
    );
    const id = res.json.builds[0].id as string;
    await waitFor(
      async () =>
        ((await (await s.server.api(`/api/builds/${id}`)).json()) as BuildView).status === 'success',
      20_000,
      'the build',
    );
    await waitFor(
      () => s.receiver.got.some((r) => JSON.parse(r.body).type === 'build.completed'),
      10_000,
      'callback',
    );
    const ep = await s.server.api('/api/endpoints', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: s.receiver.url }),
    });
    assert.equal(ep.status, 201, await ep.clone().text());
    assert.equal((await s.server.api('/api/workers')).status, 200);

    const k = keys(s.redis.prefix);
    const known = patterns(k);
    const bullmq = [JOBS_QUEUE, DELIVERIES_QUEUE, SCHEDULES_QUEUE, MAINTENANCE_QUEUE].map(
      (q) => `${s.redis.prefix}:${q}:`,
    );
    const all = await client.keys(`${s.redis.prefix}:*`);
    assert.ok(all.includes(k.build(id)) && all.includes(k.buildDeliveries(id)), 'the run left keys to check');
    const unknown = all.filter(
      (key) => !known.some(([, re]) => re.test(key)) && !bullmq.some((b) => key.startsWith(b)),
    );
    assert.deepEqual(unknown, [], 'keys written outside the key map');
    const stray = (await client.keys('*')).filter((key) => !key.startsWith(`${s.redis.prefix}:`));
    assert.deepEqual(stray, [], 'keys outside the prefix');
  });
});
