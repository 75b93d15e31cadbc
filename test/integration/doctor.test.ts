import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnPushci } from '../helpers/process.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

describe('pushci doctor', () => {
  let redis: TestRedis;
  let server: TestServer;
  before(async () => {
    redis = await startRedis();
    server = await startServer(
      redis,
      { 'p.yml': "repository: octo-org/web\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n" },
      { GITHUB_WEBHOOK_SECRET: 'a-long-enough-secret-value' },
    );
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });
  const doctor = async (env: Record<string, string>) => {
    const p = spawnPushci(['doctor'], {
      REDIS_URL: redis.url,
      PUSHCI_PIPELINES: server.config.pipelinesDir,
      PUSHCI_PUBLIC_URL: server.base,
      ...env,
    });
    return { code: await p.exited, out: p.output.join('') };
  };

  it('passes a working setup, check by check', async () => {
    const r = await doctor({ GITHUB_WEBHOOK_SECRET: 'a-long-enough-secret-value', PUSHCI_API_TOKEN: 't' });
    assert.equal(r.code, 0, r.out);
    for (const line of [
      /✔ Redis\s+reachable/,
      /✔ git\s+git version/,
      /✔ sandbox\s+steps run in bubblewrap; job limits as (cgroup v\d|rlimits)/,
      /✔ cache\s+sandboxed actions reach the actions\/cache and artifact protocols through socat/,
      /✔ pipelines\s+1 valid/,
      /✔ webhook secrets\s+GITHUB_WEBHOOK_SECRET/,
      /✔ API token/,
      /✔ endpoint key\s+pushci serve will generate the key/,
      /✔ public URL\s+.*\/healthz answers/,
      // The test server's address is loopback and plain http: a forge on the internet could not use it.
      /! public URL\s+127\.0\.0\.1:\d+ is an internal address: GitHub, GitLab\.com and Bitbucket cannot reach it/,
      /! public URL\s+http:\/\/127\.0\.0\.1:\d+ is plain http/,
    ])
      assert.match(r.out, line);
  });

  it('says what is wrong and exits 1', async () => {
    writeFileSync(join(server.config.pipelinesDir, 'bad.yml'), 'repository: [\n');
    const r = await doctor({
      REDIS_URL: 'redis://127.0.0.1:1',
      GITHUB_WEBHOOK_SECRET: 'short',
      PUSHCI_SECRETS_KEY: 'too-short',
      PUSHCI_RUNNER: 'host',
    });
    assert.equal(r.code, 1);
    assert.match(r.out, /✘ Redis\s+REDIS_URL is set but Redis does not answer/);
    assert.match(r.out, /✘ pipelines\s+1 problem\(s\), e\.g\. .*bad\.yml:\d+:\d+:/);
    assert.match(r.out, /! secret strength\s+GITHUB_WEBHOOK_SECRET shorter than 16 characters/);
    assert.match(r.out, /! API token\s+PUSHCI_API_TOKEN unset/);
    assert.match(r.out, /✘ endpoint key\s+PUSHCI_SECRETS_KEY must be 32 random bytes in base64/);
    assert.match(r.out, /! sandbox\s+PUSHCI_RUNNER=host: steps run unsandboxed/);
  });
});
