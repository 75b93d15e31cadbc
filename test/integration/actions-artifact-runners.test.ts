import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { suiteServer } from '../helpers/suite-server.ts';
import { RUNTIME_ACTION, RUNTIME_STEP } from '../helpers/runtime-action.ts';
import { artifactClient, removeArtifactClient } from '../helpers/artifact-client.ts';
import { jobLog, pipelineHead, pushAndWait } from '../helpers/push-build.ts';

const SECRET = 'actions-artifact-secret';

after(removeArtifactClient);

describe('the artifact protocol on the host runner (the gateway on this machine’s loopback)', () => {
  const s = suiteServer({
    history: [{ 'seed.txt': 'h1\n', ...RUNTIME_ACTION }],
    pipelines: (repo) => {
      const client = artifactClient();
      return {
        'host.yml': `${pipelineHead('host', repo.dir)}jobs:
  make:
    steps:
${RUNTIME_STEP}      - run: |
          case "$ACTIONS_RESULTS_URL" in http://127.0.0.1:*/) echo "url: loopback";; esac
          echo "from the host runner" > note.txt
          "${client}/node" "${client}/client.mjs" upload notes note.txt
  use:
    needs: make
    steps:
${RUNTIME_STEP}      - run: |
          "${client}/node" "${client}/client.mjs" download notes got
          cat got/note.txt
`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_RUNNER: 'host' },
  });

  it('uploads in one job and downloads in the next', { timeout: 240_000 }, async () => {
    const sha = s.repo.commits[0]!;
    const b = await pushAndWait(s.server, { name: 'host', sha, secret: SECRET, timeoutMs: 180_000 });
    const id = b.id;
    const make = await jobLog(s.server, id, 'make');
    const use = await jobLog(s.server, id, 'use');
    assert.equal(b.status, 'success', `${make}\n${use}`);
    assert.match(make, /url: loopback/);
    assert.match(make, /client: uploaded notes \d+ with digest/);
    assert.match(use, /client: downloaded notes digest ok/);
    assert.match(use, /from the host runner/);
  });
});

describe('a worker on another machine (its own data dir): @actions/artifact uploads reach the server over HTTP', () => {
  const s = suiteServer({
    history: [{ 'seed.txt': 'r1\n', ...RUNTIME_ACTION }],
    pipelines: (repo) => {
      const client = artifactClient();
      return {
        'remote.yml': `${pipelineHead('remote', repo.dir)}jobs:
  make:
    steps:
${RUNTIME_STEP}      - run: |
          echo "made on the worker" > w.txt
          "${client}/node" "${client}/client.mjs" upload from-worker w.txt
  use:
    needs: make
    steps:
${RUNTIME_STEP}      - run: |
          "${client}/node" "${client}/client.mjs" download from-worker got
          cat got/w.txt
`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: SECRET },
    remoteWorker: true,
  });

  it(
    'stores it in the server’s data dir, none in the worker’s, and the next job downloads it',
    { timeout: 240_000 },
    async () => {
      const sha = s.repo.commits[0]!;
      const b = await pushAndWait(s.server, { name: 'remote', sha, secret: SECRET, timeoutMs: 180_000 });
      const id = b.id;
      const make = await jobLog(s.server, id, 'make');
      const use = await jobLog(s.server, id, 'use');
      assert.equal(b.status, 'success', `${make}\n${use}`);
      assert.match(make, /client: uploaded from-worker \d+ with digest/);
      assert.match(use, /made on the worker/);
      assert.ok(existsSync(join(s.server.config.dataDir, 'artifacts', id, 'from-worker.blob')));
      assert.ok(!existsSync(join(s.worker.config.dataDir, 'artifacts')));
    },
  );
});
