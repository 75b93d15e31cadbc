import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobLog, pipelineHead, pushAndWait } from '../helpers/push-build.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import { RUNTIME_ACTION, RUNTIME_STEP } from '../helpers/runtime-action.ts';

const SECRET = 'cache-archive-secret';

/*
 * A job saves what it likes under its own cache keys through the actions/cache protocol, so the archive a
 * later `cache:` restore unpacks is the pusher's. tar (run in the sandbox) names a member it cannot
 * unpack in its error; the worker read that stderr into one string per line, however long, and a 600 KB
 * gzip can name a member 600 MB long, more than one string in the worker may hold (an exception in a
 * stream handler: the whole server ends). Here a 2 MiB name stands for it: no log line may come out
 * longer than 64 KiB. The control saves and restores an ordinary cache in the same jobs.
 */
describe('attack: a cache archive whose member name is megabytes long (real sandbox)', () => {
  const s = suiteServer({
    history: [{ 'a.txt': 'a\n', ...RUNTIME_ACTION }],
    pipelines: (repo) => ({
      'tar.yml': `${pipelineHead('tar', repo.dir)}jobs:
  plant:
    cache:
      - key: good
        paths: [y]
    steps:
${RUNTIME_STEP}      - run: |
          mkdir -p y && echo "kept" > y/file
          python3 -c "
          import tarfile, io
          with tarfile.open('evil.tgz', 'w:gz', format=tarfile.PAX_FORMAT) as t:
              m = tarfile.TarInfo('w/' + 'a' * (2 * 1024 * 1024)); m.size = 1; t.addfile(m, io.BytesIO(b'x'))"
          api="\${ACTIONS_CACHE_URL}_apis/artifactcache/caches"
          v=$(printf 'pushci-cache-v1\\nx' | sha256sum | cut -c1-32)
          id=$(curl -sf -X POST -H 'content-type: application/json' -d "{\\"key\\":\\"evil\\",\\"version\\":\\"$v\\"}" "$api" | sed 's/.*"cacheId":"\\{0,1\\}\\([0-9a-f]*\\).*/\\1/')
          n=$(stat -c %s evil.tgz)
          curl -sf -X PATCH -H "content-range: bytes 0-$((n - 1))/*" -H 'content-type: application/octet-stream' --data-binary @evil.tgz "$api/$id"
          curl -sf -X POST -H 'content-type: application/json' -d "{\\"size\\":$n}" "$api/$id"
          echo "PLANTED $id"
  restore:
    needs: plant
    cache:
      - key: evil
        paths: [x]
      - key: good
        paths: [y]
    steps:
      - run: echo "CONTROL $(cat y/file)"
`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: SECRET },
  });

  it('shows tar’s error in pieces of at most 64 KiB; an ordinary cache still restores', async () => {
    const b = await pushAndWait(s.server, {
      name: 'tar',
      sha: s.repo.commits[0]!,
      secret: SECRET,
      timeoutMs: 120_000,
    });
    const plant = await jobLog(s.server, b.id, 'plant');
    assert.match(plant, /PLANTED [0-9a-f]{32}/, plant);
    const log = await jobLog(s.server, b.id, 'restore');
    const lines = log.split('\n');
    const longest = Math.max(...lines.map((l) => l.length));
    assert.ok(longest < 64 * 1024 + 100, `a log line of ${longest} characters`);
    assert.ok(lines.filter((l) => /a{60000}/.test(l)).length >= 30, 'tar’s message is shown, in pieces');
    assert.match(log, /cache "evil": could not restore it/);
    assert.match(log, /CONTROL kept/, log.slice(0, 3000));
    assert.equal(b.jobs.find((j) => j.name === 'restore')!.status, 'success');
  });
});
