import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { hostBackend } from '../../../src/runner/backends/host/host-backend.ts';
import type { JobFilesClient } from '../../../src/runner/job-files-client.ts';
import { saveCaches } from '../../../src/runner/job-files.ts';

/*
 * A cache whose paths are gone (a step deleted them) makes tar, the real one, exit 3 at once, often
 * before the server has answered the reservation and anyone reads the upload's body. Failing that body
 * then emitted 'error' with no listener: an uncaught exception that ended the whole worker (seen once in
 * a full test run). The server's side is a stand-in that answers the reservation late.
 */
describe('saving a cache whose paths are gone, before the upload reads anything', () => {
  it('says nothing was saved, and throws nothing past the job', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pushci-job-files-'));
    const [src, scripts, tmp, home] = ['src', 'scripts', 'tmp', 'home'].map((n) => join(root, n)) as [
      string,
      string,
      string,
      string,
    ];
    for (const d of [src, scripts, tmp, home]) mkdirSync(d);
    const dirs = { root, src, scripts, tmp, home };
    const runtime = await hostBackend().prepare({
      id: 'job-files-test',
      dirs,
      readOnly: [],
      network: 'default',
      limits: { processes: 0, memoryBytes: 0, diskBytes: 0, openFiles: 0 },
    });
    const uncaught: Error[] = [];
    const onUncaught = (e: Error) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    const said: string[] = [];
    const client = {
      async saveCache(_key: string, _version: string, body: Readable) {
        await new Promise((r) => setTimeout(r, 300));
        for await (const _ of body) void _;
        return { saved: true, size: 0 };
      },
    } as unknown as JobFilesClient;
    try {
      await saveCaches(
        {
          runtime,
          dirs,
          client,
          serverEnv: { PATH: process.env.PATH! },
          secrets: new Set(),
          say: (l) => said.push(l),
          stderr: () => {},
          signal: new AbortController().signal,
        },
        [{ key: 'gone', restoreKeys: [], version: 'v1', paths: ['node_modules'], exactHit: false }],
      );
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      process.off('uncaughtException', onUncaught);
      await runtime.destroy();
    }
    assert.deepEqual(uncaught, []);
    assert.deepEqual(said, ['pushci: cache "gone": none of its paths exist, nothing saved']);
  });
});
