import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildView } from '../../src/model.ts';
import { makeRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { spawnPushci } from '../helpers/process.ts';
import { waitFor, waitForHttp } from '../helpers/receiver.ts';
import { freePort, type TestRedis } from '../helpers/redis.ts';
import { npmProject } from './npm-project.ts';

const ROOT = join(import.meta.dirname, '../..');
const SECRET = 'bench-npm-secret';
const TOKEN = 'bench-npm-api-token-0123456789abcdef';

export interface NpmCacheResult {
  packages: number;
  runs: number;
  /** Medians, in ms: the whole job (checkout, cache restore, install, cache save) and its install step. */
  cold: { jobMs: number; stepMs: number };
  warm: { jobMs: number; stepMs: number };
  /** Every run, in order. */
  samples: { cold: Array<{ jobMs: number; stepMs: number }>; warm: Array<{ jobMs: number; stepMs: number }> };
}

/**
 * A build that installs pushci's production dependencies (a few hundred npm packages) with
 * `npm ci --offline` from a folder of local tarballs, no network, with the pipeline's `cache:` on
 * node_modules keyed by the lock file: cold (a new key: nothing to restore, install, save) and then warm
 * (the same key: restore, no install), `runs` times each, in a real sandboxed worker.
 */
export async function npmCacheBench(
  redis: TestRedis,
  runs: number,
  median: (xs: number[]) => number,
): Promise<NpmCacheResult> {
  // The tarballs must be visible inside the sandbox: not under /tmp (each job has its own), not in a data dir.
  const work = mkdtempSync('/var/tmp/pushci-bench-npm-');
  const project = npmProject(ROOT, join(work, 'tarballs'));
  const repo = makeRepo([{ 'package.json': project.packageJson, 'package-lock.json': project.lock }]);
  const pipes = mkdtempSync(join(tmpdir(), 'pushci-bench-npm-pipes-'));
  writeFileSync(
    join(pipes, 'npm.yml'),
    `name: npm
repository: octo-org/npm
clone-url: ${repo.dir}
on: push
jobs:
  install:
    cache:
      key: npm-\${{ hashFiles('package-lock.json', 'epoch.txt') }}
      paths: node_modules
    steps:
      - name: install
        run: |
          if [ -e node_modules/.package-lock.json ]; then echo "node_modules restored"
          else npm ci --offline --ignore-scripts --no-audit --no-fund --no-update-notifier; fi
          node -e "for (const m of ['bullmq', 'koa', 'pino', 'zod', 'ioredis']) require(m); console.log('NPM_OK')"
`,
  );
  const port = await freePort();
  const server = spawnPushci(['serve'], {
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    PUSHCI_QUEUE_PREFIX: `${redis.prefix}npm:`,
    PUSHCI_PIPELINES: pipes,
    PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-bench-npm-data-')),
    PUSHCI_API_TOKEN: TOKEN,
    GITHUB_WEBHOOK_SECRET: SECRET,
    PUSHCI_CONCURRENCY: '1',
  });
  const base = `http://127.0.0.1:${port}`;
  const api = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  try {
    await waitForHttp(`${base}/healthz`, { what: 'pushci' });
    const build = async (sha: string) => {
      const res = await sendGithub(
        base,
        githubPush({ ref: 'refs/heads/main', before: sha, after: sha, repo: 'octo-org/npm' }),
        SECRET,
      );
      if (res.status !== 202) throw new Error(`push: ${res.status} ${res.text}`);
      const id = res.json.builds[0].id as string;
      const b = await waitFor(
        async () => {
          const v = (await (await api(`/api/builds/${id}`)).json()) as BuildView;
          return ['success', 'failure', 'error', 'canceled'].includes(v.status) ? v : null;
        },
        600_000,
        `npm build ${id}`,
      );
      const log = await (await api(`/api/builds/${id}/jobs/install/log`)).text();
      if (b.status !== 'success' || !log.includes('NPM_OK')) throw new Error(`npm build failed:\n${log}`);
      const step = /pushci: step "install" succeeded in ([\d.]+) s/.exec(log);
      return {
        jobMs: b.jobs[0]!.duration_ms ?? NaN,
        stepMs: step ? Number(step[1]) * 1000 : NaN,
        restored: log.includes('node_modules restored'),
      };
    };
    const strip = (x: { jobMs: number; stepMs: number }) => ({ jobMs: x.jobMs, stepMs: x.stepMs });
    const cold: Array<{ jobMs: number; stepMs: number }> = [];
    const warm: Array<{ jobMs: number; stepMs: number }> = [];
    for (let i = 0; i < runs; i++) {
      // A new epoch is a new cache key: nothing to restore.
      const c = await build(repo.commit({ 'epoch.txt': `${i}\n` }));
      if (c.restored) throw new Error('the cold build found a cache');
      cold.push(c);
      const w = await build(repo.commit({ 'README.md': `warm ${i}\n` }));
      if (!w.restored) throw new Error('the warm build did not restore node_modules');
      warm.push(w);
    }
    const med = (xs: Array<{ jobMs: number; stepMs: number }>) => ({
      jobMs: median(xs.map((x) => x.jobMs)),
      stepMs: median(xs.map((x) => x.stepMs)),
    });
    return {
      packages: project.count,
      runs,
      cold: med(cold),
      warm: med(warm),
      samples: { cold: cold.map(strip), warm: warm.map(strip) },
    };
  } finally {
    server.proc.kill('SIGTERM');
    await Promise.race([server.exited, new Promise((r) => setTimeout(r, 10_000))]);
    server.proc.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}
