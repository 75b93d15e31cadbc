import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { after, describe, it } from 'node:test';
import { jobLog, pipelineHead, pushAndWait } from '../helpers/push-build.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const SECRET = 'shm-secret';

// An operator may keep the data dir on a tmpfs such as /dev/shm. A step's own /dev/shm used to be
// mounted over it after the checkout was granted, hiding the checkout and the scripts from the step.
describe(
  'a data dir under /dev/shm (real sandbox)',
  { skip: !existsSync('/dev/shm') && 'no /dev/shm here' },
  () => {
    const dataDir = mkdtempSync('/dev/shm/pushci-test-data-');
    // Something of the host's in /dev/shm, which the step must not see.
    const hostFile = `${dataDir}-host-note`;
    writeFileSync(hostFile, 'the host’s\n');
    after(() => {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(hostFile, { force: true });
    });
    const s = suiteServer({
      history: [{ 'hello.txt': 'from the checkout\n' }],
      pipelines: (repo) => ({
        'shm.yml': `${pipelineHead('shm', repo.dir)}jobs:
  j:
    timeout-minutes: 1
    steps:
      - run: |
          echo "read: $(cat hello.txt)"
          echo mine > /dev/shm/note
          ls -A /dev/shm | sed 's/^/shm: /'
          ls -A ${dataDir} | sed 's/^/data dir: /'
`,
      }),
      env: { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_DATA_DIR: dataDir },
    });

    it('runs the step in its checkout, with a /dev/shm of its own and the data dir still covered', async () => {
      const b = await pushAndWait(s.server, {
        name: 'shm',
        sha: s.repo.commits[0]!,
        secret: SECRET,
        timeoutMs: 60_000,
      });
      const log = await jobLog(s.server, b.id, 'j');
      assert.equal(b.status, 'success', `${b.reason}\n${log}`);
      assert.match(log, /read: from the checkout/);
      const seen = (prefix: string) =>
        [...log.matchAll(new RegExp(`^\\S+ {3}${prefix}: (.+)$`, 'gm'))].map((m) => m[1]!.trim());
      // The step's /dev/shm is the job's own folder: what it put there, not the host's.
      assert.ok(seen('shm').includes('note'), log);
      assert.ok(!seen('shm').includes(basename(hostFile)), `the host's /dev/shm shows through:\n${log}`);
      // The data dir stays covered: no API token in it, only the mount points of the job's grants.
      assert.ok(seen('data dir').length > 0, log);
      assert.ok(!seen('data dir').includes('api-token'), `the data dir shows through:\n${log}`);
      assert.ok(
        readdirSync(dataDir).includes('api-token'),
        'the host data dir holds the token (the control)',
      );
    });
  },
);
