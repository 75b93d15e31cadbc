import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnPushci } from '../helpers/process.ts';

const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();

describe('pushci recover against a fake GitHub API', () => {
  const calls: Array<{ method: string; url: string; auth: string | undefined }> = [];
  let base = '';
  let close: () => void;
  before(async () => {
    const deliveries = [
      // newest first, as GitHub lists them; two pages
      {
        id: 9,
        guid: 'A',
        delivered_at: ago(5),
        redelivery: true,
        status: 'Invalid HTTP Response: 503',
        status_code: 503,
        event: 'push',
      },
      {
        id: 8,
        guid: 'B',
        delivered_at: ago(10),
        redelivery: true,
        status: 'OK',
        status_code: 202,
        event: 'push',
      },
      {
        id: 7,
        guid: 'C',
        delivered_at: ago(20),
        redelivery: false,
        status: 'OK',
        status_code: 200,
        event: 'push',
      },
      {
        id: 6,
        guid: 'B',
        delivered_at: ago(30),
        redelivery: false,
        status: 'timed out',
        status_code: 0,
        event: 'push',
      },
      {
        id: 5,
        guid: 'A',
        delivered_at: ago(40),
        redelivery: false,
        status: 'Invalid HTTP Response: 500',
        status_code: 500,
        event: 'push',
      },
      {
        id: 4,
        guid: 'E',
        delivered_at: ago(50),
        redelivery: false,
        status: 'Invalid HTTP Response: 401',
        status_code: 401,
        event: 'push',
      },
      {
        id: 3,
        guid: 'OLD',
        delivered_at: ago(500),
        redelivery: false,
        status: 'Invalid HTTP Response: 500',
        status_code: 500,
        event: 'push',
      },
    ];
    const server = createServer((req, res) => {
      calls.push({ method: req.method!, url: req.url!, auth: req.headers.authorization });
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      if (
        req.headers.authorization !== 'Bearer ghp_recover' ||
        req.headers['x-github-api-version'] !== '2022-11-28'
      )
        return json(401, { message: 'Bad credentials' });
      const url = new URL(req.url!, 'http://x');
      if (req.method === 'GET' && url.pathname === '/repos/octo-org/web/hooks') {
        return json(200, [
          { id: 1, active: true, events: ['push'], config: { url: 'https://other.example/hook' } },
          {
            id: 42,
            active: true,
            events: ['push'],
            config: { url: 'https://ci.example.com/webhooks/github', content_type: 'json' },
          },
        ]);
      }
      if (req.method === 'GET' && url.pathname === '/repos/octo-org/web/hooks/42/deliveries') {
        const page = url.searchParams.get('cursor') === 'p2' ? deliveries.slice(4) : deliveries.slice(0, 4);
        const link =
          url.searchParams.get('cursor') === 'p2'
            ? {}
            : { link: `<${base}/repos/octo-org/web/hooks/42/deliveries?per_page=100&cursor=p2>; rel="next"` };
        return json(200, page, link);
      }
      if (
        req.method === 'POST' &&
        /^\/repos\/octo-org\/web\/hooks\/42\/deliveries\/\d+\/attempts$/.test(url.pathname)
      )
        return json(202, {});
      json(404, { message: 'Not Found' });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  after(() => close?.());

  it('redelivers each failed delivery once, the latest attempt of its guid, and no older than --since', async () => {
    const pipelines = mkdtempSync(join(tmpdir(), 'pushci-recover-'));
    writeFileSync(
      join(pipelines, 'p.yml'),
      "repository: octo-org/web\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n",
    );
    const p = spawnPushci(['recover', '--since', '2h', '--json'], {
      GITHUB_TOKEN: 'ghp_recover',
      PUSHCI_GITHUB_API_URL: base,
      PUSHCI_PUBLIC_URL: 'https://ci.example.com',
      PUSHCI_PIPELINES: pipelines,
    });
    assert.equal(await p.exited, 0, p.output.join(''));
    const report = JSON.parse(p.output.join(''));
    assert.equal(report[0].hookId, 42);
    assert.deepEqual(report[0].redelivered.map((d: { guid: string }) => d.guid).sort(), ['A', 'E']);
    const posts = calls
      .filter((c) => c.method === 'POST')
      .map((c) => c.url)
      .sort();
    assert.deepEqual(posts, [
      '/repos/octo-org/web/hooks/42/deliveries/4/attempts',
      '/repos/octo-org/web/hooks/42/deliveries/9/attempts',
    ]);
    assert.ok(calls.every((c) => c.auth === 'Bearer ghp_recover'));
    assert.ok(
      calls.some((c) => c.url.includes('cursor=p2')),
      'followed the second page',
    );
  });

  it('says when no hook points at this server', async () => {
    const p = spawnPushci(['recover', '--repo', 'octo-org/web'], {
      GITHUB_TOKEN: 'ghp_recover',
      PUSHCI_GITHUB_API_URL: base,
      PUSHCI_PUBLIC_URL: 'https://elsewhere.example',
    });
    assert.equal(await p.exited, 1);
    assert.match(
      p.output.join(''),
      /no hook of octo-org\/web points at https:\/\/elsewhere\.example\/webhooks\/github/,
    );
  });
});
