import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ARTIFACTS_PER_JOB } from '../../src/artifacts/artifact-uploads.ts';
import { jobLog, pipelineHead, pushAndWait } from '../helpers/push-build.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import { RUNTIME_ACTION, RUNTIME_STEP } from '../helpers/runtime-action.ts';

const SECRET = 'artifact-count-secret';
const TRIES = MAX_ARTIFACTS_PER_JOB + 20;

/*
 * The artifact protocol capped each artifact's bytes and the uploads open at once, not how many a job
 * made: one after the other, a step could make one-byte artifacts for as long as it ran, each a file in
 * the server's data dir and a row of its build (the API's list, the build page). Now a job makes at most
 * MAX_ARTIFACTS_PER_JOB, as on GitHub; the control is the next job of the same build, which still uploads.
 */
describe('attack: making artifacts by the thousand through the artifact protocol (real sandbox)', () => {
  const step = (tries: number) => `      - run: |
          python3 - "\${ACTIONS_RESULTS_URL}" "$CI_BUILD_ID" "$CI_JOB_NAME" <<'PY'
          import sys, json, urllib.request, urllib.error, concurrent.futures
          base, build, job = sys.argv[1:4]
          def call(method, url, body, ctype='application/json'):
              r = urllib.request.Request(url, data=body, headers={'content-type': ctype}, method=method)
              return urllib.request.urlopen(r).read()
          def one(i):
              ids = {'workflow_run_backend_id': build, 'workflow_job_run_backend_id': job, 'name': f'{job}-{i}'}
              rpc = base + 'twirp/github.actions.results.api.v1.ArtifactService/'
              try:
                  url = json.loads(call('POST', rpc + 'CreateArtifact', json.dumps({**ids, 'version': 4}).encode()))['signed_upload_url']
                  call('PUT', url + '&comp=block&blockid=QUFBQQ', b'x', 'application/octet-stream')
                  call('PUT', url + '&comp=blocklist', b'<BlockList><Latest>QUFBQQ</Latest></BlockList>', 'application/xml')
                  call('POST', rpc + 'FinalizeArtifact', json.dumps({**ids, 'size': '1'}).encode())
                  return 'made'
              except urllib.error.HTTPError as e:
                  return e.code
          with concurrent.futures.ThreadPoolExecutor(8) as ex:
              got = list(ex.map(one, range(${tries})))
          print('MADE', got.count('made'), 'REFUSED', got.count(413), 'OTHER', sorted(set(g for g in got if g not in ('made', 413)), key=str))
          PY
`;
  const s = suiteServer({
    history: [{ 'a.txt': 'a\n', ...RUNTIME_ACTION }],
    pipelines: (repo) => ({
      'many.yml': `${pipelineHead('many', repo.dir)}jobs:
  pile:
    steps:
${RUNTIME_STEP}${step(TRIES)}  next:
    needs: pile
    steps:
${RUNTIME_STEP}${step(3)}`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: SECRET },
  });

  it(
    'refuses artifacts past the cap of one job; the next job still makes its own',
    { timeout: 340_000 },
    async () => {
      const b = await pushAndWait(s.server, {
        name: 'many',
        sha: s.repo.commits[0]!,
        secret: SECRET,
        timeoutMs: 280_000,
      });
      const pile = await jobLog(s.server, b.id, 'pile');
      const m = /MADE (\d+) REFUSED (\d+) OTHER \[\]/.exec(pile);
      assert.ok(m, pile.slice(-2000));
      const [made, refused] = [Number(m[1]), Number(m[2])];
      // Eight uploads begin at a time: each may have counted before the others were listed.
      assert.ok(made >= MAX_ARTIFACTS_PER_JOB && made < MAX_ARTIFACTS_PER_JOB + 8, `made ${made}`);
      assert.equal(made + refused, TRIES);
      const next = await jobLog(s.server, b.id, 'next');
      assert.match(next, /MADE 3 REFUSED 0 OTHER \[\]/, next.slice(-2000));
    },
  );
});
