import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { buildEnded, pushBuild } from '../helpers/push-build.ts';
import { waitFor } from '../helpers/receiver.ts';
import { freePort } from '../helpers/redis.ts';
import { startServer } from '../helpers/server.ts';
import { checkPrefixFor, parseRedisUrl } from '../../src/queue/connection.ts';

const procs: ChildProcess[] = [];
function redisServer(args: string[]): ChildProcess {
  const p = spawn('redis-server', args, { stdio: 'ignore' });
  procs.push(p);
  return p;
}
const ping = (port: number) => {
  try {
    return execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).trim() === 'PONG';
  } catch {
    return false;
  }
};

async function buildThrough(redisUrl: string, prefix: string, repo: TestRepo) {
  const server = await startServer(
    { url: redisUrl, prefix, stop: async () => {} },
    {
      'p.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  a:\n    steps:\n      - run: 'true'\n  b:\n    needs: a\n    steps:\n      - run: 'true'\n`,
    },
    { GITHUB_WEBHOOK_SECRET: 's' },
  );
  try {
    const v = await buildEnded(
      server,
      await pushBuild(server, { name: 'web', sha: repo.commits[0]!, secret: 's' }),
      30_000,
    );
    assert.equal(v.status, 'success', v.reason ?? '');
    return v;
  } finally {
    await server.close();
  }
}

describe('Redis Sentinel and Redis Cluster', () => {
  let repo: TestRepo;
  before(() => {
    repo = makeRepo();
  });
  after(() => {
    for (const p of procs) p.kill('SIGKILL');
  });

  it('parses the URL forms', () => {
    assert.deepEqual(parseRedisUrl('redis+sentinel://:pw@a:26379,b/mymaster/2'), {
      kind: 'sentinel',
      hosts: [
        { host: 'a', port: 26379 },
        { host: 'b', port: 26379 },
      ],
      password: 'pw',
      name: 'mymaster',
      db: 2,
    });
    assert.deepEqual(parseRedisUrl('redis+cluster://u:p@n1:7000,n2:7001'), {
      kind: 'cluster',
      hosts: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      username: 'u',
      password: 'p',
    });
    assert.equal(parseRedisUrl('redis://localhost:6379').kind, 'single');
    assert.throws(() => checkPrefixFor('redis+cluster://a:7000', 'pushci'), /PUSHCI_QUEUE_PREFIX=\{pushci\}/);
    checkPrefixFor('redis+cluster://a:7000', '{pushci}');
  });

  it('runs a build through Redis Sentinel', async () => {
    const master = await freePort();
    const sentinel = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'pushci-sentinel-'));
    redisServer(['--port', String(master), '--bind', '127.0.0.1', '--dir', dir, '--save', '']);
    await waitFor(() => ping(master), 10_000, 'master');
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      `port ${sentinel}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${master} 1\n`,
    );
    redisServer([conf, '--sentinel']);
    await waitFor(() => ping(sentinel), 10_000, 'sentinel');
    const v = await buildThrough(`redis+sentinel://127.0.0.1:${sentinel}/mymaster`, 'pushci', repo);
    assert.deepEqual(
      v.jobs.map((j) => j.status),
      ['success', 'success'],
    );
  });

  it('runs a build through a three-node Redis Cluster with a hash-tagged prefix', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) {
      const dir = mkdtempSync(join(tmpdir(), 'pushci-cluster-'));
      redisServer([
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
      ]);
    }
    for (const port of ports) await waitFor(() => ping(port), 10_000, `node ${port}`);
    execFileSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      () =>
        execFileSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' }).includes(
          'cluster_state:ok',
        ),
      20_000,
      'cluster',
    );
    const v = await buildThrough(
      `redis+cluster://127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}`,
      '{pushci}',
      repo,
    );
    assert.deepEqual(
      v.jobs.map((j) => j.status),
      ['success', 'success'],
    );
  });
});
