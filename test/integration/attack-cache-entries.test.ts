import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ENTRIES_PER_REF } from '../../src/artifacts/cache-store.ts';
import { jobLog, pipelineHead, pushAndWait } from '../helpers/push-build.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import { RUNTIME_ACTION, RUNTIME_STEP } from '../helpers/runtime-action.ts';

const SECRET = 'cache-entries-secret';
const TRIES = MAX_ENTRIES_PER_REF + 100;

/*
 * The cache service capped bytes, not entries: a step could reserve key after key through the
 * actions/cache protocol (3,000 in 78 s here, eight at a time), each a Redis hash and a scope field that
 * stayed, for as long as its job ran, build after build. Now one ref holds at most MAX_ENTRIES_PER_REF;
 * the control is another branch of the same repository, which still saves.
 */
describe('attack: piling up cache entries through the actions/cache protocol (real sandbox)', () => {
  const s = suiteServer({
    history: [{ 'a.txt': 'a\n', ...RUNTIME_ACTION }],
    pipelines: (repo) => ({
      'pile.yml': `${pipelineHead('pile', repo.dir)}jobs:
  pile:
    steps:
${RUNTIME_STEP}      - run: |
          python3 - "\${ACTIONS_CACHE_URL}_apis/artifactcache/caches" "$CI_COMMIT_BRANCH" <<'PY'
          import sys, json, urllib.request, urllib.error, concurrent.futures
          api, branch = sys.argv[1], sys.argv[2]
          tries = ${TRIES} if branch == 'main' else 1
          def one(i):
              body = json.dumps({'key': f'{branch}-{i}', 'version': 'v1'}).encode()
              r = urllib.request.Request(api, data=body, headers={'content-type': 'application/json'}, method='POST')
              try:
                  return urllib.request.urlopen(r).status
              except urllib.error.HTTPError as e:
                  return e.code
          with concurrent.futures.ThreadPoolExecutor(8) as ex:
              codes = list(ex.map(one, range(tries)))
          print('RESERVED', sum(c < 300 for c in codes), 'REFUSED', codes.count(409), 'OTHER', len([c for c in codes if c >= 300 and c != 409]))
          PY
`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: SECRET },
  });

  it(
    'refuses entries past the cap of one ref; another branch still saves',
    { timeout: 300_000 },
    async () => {
      const counts = async (ref?: string) => {
        const b = await pushAndWait(s.server, {
          name: 'pile',
          sha: s.repo.commits[0]!,
          secret: SECRET,
          timeoutMs: 240_000,
          ...(ref ? { ref } : {}),
        });
        const log = await jobLog(s.server, b.id, 'pile');
        const m = /RESERVED (\d+) REFUSED (\d+) OTHER (\d+)/.exec(log);
        assert.ok(m, log);
        return m.slice(1).map(Number);
      };
      const [reserved, refused, other] = await counts();
      // Eight reservations at a time may each have counted before the others landed.
      assert.ok(
        reserved! >= MAX_ENTRIES_PER_REF && reserved! < MAX_ENTRIES_PER_REF + 8,
        `reserved ${reserved}`,
      );
      assert.equal(refused! + reserved!, TRIES);
      assert.equal(other, 0);
      assert.deepEqual(await counts('refs/heads/other'), [1, 0, 0]);
    },
  );
});
