import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { nodeClientDir } from '../helpers/node-client.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import { jobLog, pipelineHead, pushAndWait } from '../helpers/push-build.ts';
import { RUNTIME_ACTION, RUNTIME_STEP } from '../helpers/runtime-action.ts';

const SECRET = 'actions-cache-secret';

/**
 * A cache client built on the real `@actions/cache` (npm), with a Node to run it, in a folder the
 * sandbox shows (not /tmp, which is the job's own, nor pushci's working directory, which is hidden).
 */
let made: string | null = null;
function cacheClient(): string {
  made ??= nodeClientDir({
    prefix: '/var/tmp/pushci-test-cache-client-',
    pkg: '@actions/cache',
    file: 'client.mjs',
    // saveCache answers -1 and restoreCache nothing on a server error too, with only a ::warning:: line:
    // the client says which it was, so a test cannot mistake a failure for a miss.
    script: `import * as cache from '@actions/cache';
const write = process.stdout.write.bind(process.stdout);
let warned = '';
process.stdout.write = (chunk, ...rest) => {
  if (/^::(warning|error)/.test(String(chunk))) warned += String(chunk).trim() + ' ';
  return write(chunk, ...rest);
};
const [op, key, ...restoreKeys] = process.argv.slice(2);
const paths = ['deps-dir'];
if (op === 'save') {
  const id = await cache.saveCache(paths, key);
  console.log(id === -1 || id == null ? 'client: not saved' : 'client: saved', id);
} else console.log('client: restored', (await cache.restoreCache(paths, key, restoreKeys)) ?? 'nothing');
if (warned) console.log('client: warned', warned);
`,
  });
  return made;
}

// One client for every suite of this file, removed at the end.
after(() => {
  if (made) rmSync(made, { recursive: true, force: true });
});

describe('the actions/cache protocol from inside a sandboxed step (@actions/cache)', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let other: TestRepo;
  let server: TestServer;
  let client: string;

  before(async () => {
    client = cacheClient();
    redis = await startRedis();
    repo = makeRepo([{ 'lock.txt': 'v1\n', ...RUNTIME_ACTION }]);
    other = makeRepo([{ 'x.txt': 'x\n', ...RUNTIME_ACTION }]);
    const pipeline = (name: string, dir: string) => `name: ${name}
repository: octo-org/${name}
clone-url: ${dir}
on: push
env:
  CLIENT: ${client}
jobs:
  build:
    steps:
      # As on GitHub, a run: step gets no ACTIONS_* variables (and no forwarder) of its own.
      - run: |
          echo "plain step: \${ACTIONS_CACHE_URL:-no cache url}, \${ACTIONS_RESULTS_URL:-no results url}, \${ACTIONS_RUNTIME_TOKEN:-no token}"
          echo "plain step: $(awk 'NR > 1 && $4 == "0A"' /proc/net/tcp /proc/net/tcp6 | wc -l) listening"
${RUNTIME_STEP}      - run: |
          "$CLIENT/node" "$CLIENT/client.mjs" restore "deps-$(cat lock.txt 2>/dev/null || echo x)" deps-
          if [ -f deps-dir/made.txt ]; then echo "step: restored from build $(cat deps-dir/made.txt)"; else echo "step: cold"; mkdir -p deps-dir; echo "$CI_BUILD_NUMBER" > deps-dir/made.txt; fi
          "$CLIENT/node" "$CLIENT/client.mjs" save "deps-$(cat lock.txt 2>/dev/null || echo x)"
      - name: attack
        run: |
          env | grep -c pcj_ || echo "attack: no credential in the environment"
          base="$ACTIONS_CACHE_URL"
          for path in api/builds job/artifacts _apis/artifactcache/../../api/builds '_apis/artifactcache/%2e%2e/%2e%2e/api/builds'; do
            echo "attack: $path $(curl -s -o /dev/null -w '%{http_code}' "$base$path")"
          done
          if [ -f target.txt ]; then
            echo "attack: other repository's cache $(curl -s -o /dev/null -w '%{http_code}' "\${base}_apis/artifactcache/artifacts/$(cat target.txt)")"
          fi
`;
    server = await startServer(
      redis,
      { 'ac.yml': pipeline('ac', repo.dir), 'other.yml': pipeline('other', other.dir) },
      { GITHUB_WEBHOOK_SECRET: SECRET },
    );
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  const build = async (name: string, sha: string) => {
    const b = await pushAndWait(server, { name, sha, secret: SECRET, timeoutMs: 120_000 });
    const id = b.id;
    const log = await jobLog(server, id, 'build');
    assert.equal(b.status, 'success', log);
    assert.doesNotMatch(log, /client: warned/, 'the cache client met no error');
    return log;
  };

  it('misses, then saves; the next build restores what the first saved', async () => {
    const first = await build('ac', repo.commits[0]!);
    assert.match(first, /plain step: no cache url, no results url, no token/);
    // No forwarder was started for it: nothing listens on its loopback.
    assert.match(first, /plain step: 0 listening/);
    // The log says why the plain step, which names the variables, has none; the later steps have them.
    const hints = first.match(
      /names ACTIONS_CACHE_URL, ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN, which a run: step does not get/g,
    );
    assert.equal(hints?.length, 1, first);
    assert.equal(first.match(/which a run: step does not get/g)?.length, 1, first);
    assert.match(first, /runtime action: cache protocol 204/);
    assert.match(first, /client: restored nothing/);
    assert.match(first, /step: cold/);
    assert.match(first, /client: saved/);
    const second = await build('ac', repo.commits[0]!);
    assert.match(second, /client: restored deps-v1/);
    assert.match(second, /step: restored from build 1/);
  });

  it('falls back to a restore-key prefix when the key itself is new', async () => {
    const sha = repo.commit({ 'lock.txt': 'v2\n' });
    const third = await build('ac', sha);
    assert.match(third, /client: restored deps-v1/);
    assert.match(third, /step: restored from build 1/);
    assert.match(third, /client: saved/);
  });

  it('a step reaches only the cache protocol, never the API, and no other repository’s cache', async () => {
    // A cache of another repository, then a step that asks for it by id.
    const otherLog = await build('other', other.commits[0]!);
    assert.match(otherLog, /client: saved/);
    const caches = await waitFor(async () => {
      const { Redis } = await import('ioredis');
      const r = new Redis(redis.url);
      try {
        const keys = await r.keys(`${redis.prefix}:cache:entry:*`);
        const owned = [];
        for (const k of keys) if ((await r.hget(k, 'repository')) === 'github:octo-org/other') owned.push(k);
        return owned.length > 0 ? owned : null;
      } finally {
        r.disconnect();
      }
    });
    const target = caches[0]!.split(':').at(-1)!;
    const sha = repo.commit({ 'target.txt': `${target}\n` });
    const log = await build('ac', sha);
    assert.match(log, /attack: no credential in the environment/);
    assert.match(log, /attack: api\/builds 404/);
    assert.match(log, /attack: job\/artifacts 404/);
    assert.match(log, /attack: _apis\/artifactcache\/\.\.\/\.\.\/api\/builds 404/);
    assert.match(log, /attack: _apis\/artifactcache\/%2e%2e\/%2e%2e\/api\/builds 404/);
    assert.match(log, /attack: other repository's cache 404/);
  });
});

describe('the actions/cache protocol on the host runner (the gateway on this machine’s loopback)', () => {
  const s = suiteServer({
    history: [{ 'lock.txt': 'h1\n', ...RUNTIME_ACTION }],
    pipelines: (repo) => {
      const client = cacheClient();
      return {
        'host.yml': `${pipelineHead('host', repo.dir)}jobs:
  build:
    steps:
      - run: |
          echo "plain step: \${ACTIONS_CACHE_URL:-no cache url}"
${RUNTIME_STEP}      - run: |
          case "$ACTIONS_CACHE_URL" in http://127.0.0.1:*/) echo "url: loopback";; esac
          "${client}/node" "${client}/client.mjs" restore deps-h1
          [ -f deps-dir/made.txt ] && echo "step: restored from build $(cat deps-dir/made.txt)" || { mkdir -p deps-dir; echo "$CI_BUILD_NUMBER" > deps-dir/made.txt; }
          "${client}/node" "${client}/client.mjs" save deps-h1
`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_RUNNER: 'host' },
  });

  it('saves in one build and restores in the next', async () => {
    const run = async () => {
      const sha = s.repo.commits[0]!;
      const { id } = await pushAndWait(s.server, {
        name: 'host',
        sha,
        secret: SECRET,
        timeoutMs: 120_000,
      });
      const log = await jobLog(s.server, id, 'build');
      assert.doesNotMatch(log, /client: warned/, 'the cache client met no error');
      return log;
    };
    const first = await run();
    assert.match(first, /plain step: no cache url/);
    assert.equal(first.match(/names ACTIONS_CACHE_URL, which a run: step does not get/g)?.length, 1, first);
    assert.match(first, /runtime action: cache protocol 204/);
    assert.match(first, /url: loopback/);
    assert.match(first, /client: restored nothing/);
    assert.match(first, /client: saved/);
    const second = await run();
    assert.match(second, /client: restored deps-h1/);
    assert.match(second, /step: restored from build 1/);
  });
});

describe('@actions/cache against the cap and the branch scopes', () => {
  const s = suiteServer({
    history: [{ 'ops.txt': '', ...RUNTIME_ACTION }],
    pipelines: (repo) => {
      const client = cacheClient();
      return {
        'cap.yml': `${pipelineHead('cap', repo.dir)}jobs:
  build:
    steps:
${RUNTIME_STEP}      - run: |
          mkdir -p deps-dir
          # Random bytes: the archive cannot be compressed below ~1.5 kB.
          head -c 1500 /dev/urandom > deps-dir/r
          while read -r op key; do "${client}/node" "${client}/client.mjs" "$op" "$key"; done < ops.txt
`,
      };
    },
    // Two entries of ~1.7 kB fit, a third does not.
    env: { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_CACHE_MAX_BYTES: '4000' },
  });

  /** One build on `branch` that runs the client's operations (`save key` / `restore key`) in order. */
  const ops = async (branch: string, lines: string[]) => {
    if (s.repo.git('branch', '--show-current') !== branch) s.repo.git('checkout', '-q', '-B', branch);
    const sha = s.repo.commit({ 'ops.txt': `${lines.join('\n')}\n` });
    const { id } = await pushAndWait(s.server, {
      name: 'cap',
      sha,
      secret: SECRET,
      timeoutMs: 120_000,
      ref: `refs/heads/${branch}`,
    });
    const log = await jobLog(s.server, id, 'build');
    assert.doesNotMatch(log, /client: warned/, 'the cache client met no error');
    return log;
  };

  it('a branch restores the default branch’s entry; the default branch never sees the branch’s', async () => {
    const main = await ops('main', ['save on-main']);
    assert.match(main, /client: saved/);
    const feature = await ops('feature', ['restore on-main', 'save on-feature', 'restore on-feature']);
    assert.match(feature, /client: restored on-main/);
    assert.match(feature, /client: restored on-feature/);
    const back = await ops('main', ['restore on-feature']);
    assert.match(back, /client: restored nothing/);
  });

  it('saving past PUSHCI_CACHE_MAX_BYTES evicts the least recently used entry', async () => {
    // on-main was last used before on-feature was saved: it is the least recently used of the two.
    const log = await ops('main', ['save newest', 'restore newest', 'restore on-main']);
    assert.match(log, /client: restored newest/);
    assert.match(log, /client: restored nothing/, 'on-main was evicted');
    const feature = await ops('feature', ['restore on-feature']);
    assert.match(feature, /client: restored on-feature/, 'only the least recently used went');
  });
});
