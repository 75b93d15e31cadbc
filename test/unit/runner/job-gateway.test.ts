import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startJobGateway } from '../../../src/runner/job-gateway.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pushci-gw-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** A GET over the gateway's unix socket: its status. */
const get = (socketPath: string, path: string) =>
  new Promise<number>((resolve, reject) => {
    const r = request({ socketPath, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    r.on('error', reject);
    r.end();
  });

describe('the job gateway listens only once a step needs it', () => {
  it('has no socket until open(), then only its owner may connect; close() removes it', async () => {
    const gw = await startJobGateway({
      dataDir,
      name: 'abc123',
      serverUrl: 'http://127.0.0.1:9/',
      credential: 'pcj_x',
    });
    assert.equal(existsSync(gw.socket), false, 'a job whose steps never use the gateway gets no socket');
    await Promise.all([gw.open(), gw.open()]);
    assert.equal(statSync(gw.socket).mode & 0o777, 0o600);
    gw.base = 'http://127.0.0.1:40000/';
    // Anything but the two protocols' routes stays unanswered by the server.
    assert.equal(await get(gw.socket, '/api/builds'), 404);
    await gw.close();
    assert.equal(existsSync(gw.socket), false);
  });

  it('closes cleanly when it was never opened', async () => {
    const gw = await startJobGateway({
      dataDir,
      name: 'def456',
      serverUrl: 'http://127.0.0.1:9/',
      credential: 'pcj_x',
    });
    await gw.close();
    assert.equal(existsSync(gw.socket), false);
  });
});
