import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_ACTION_FILE_BYTES } from '../../../src/pipelines/action-file.ts';
import { readAction } from '../../../src/runner/load-action.ts';

const composite = `name: ok\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n      shell: bash\n`;

describe('readAction', () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'pushci-test-load-action-')));
  const dir = (name: string) => {
    const d = join(root, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const read = (d: string) => readAction(d, root, './x', 'x', (p) => p);

  it('loads a composite action (the control)', async () => {
    const d = dir('ok');
    writeFileSync(join(d, 'action.yml'), composite);
    const r = await read(d);
    assert.ok(!('problem' in r), JSON.stringify(r));
    assert.equal(r.def.name, 'ok');
  });

  it('refuses an action.yml over the size limit, and one that is not a regular file', async () => {
    const big = dir('big');
    writeFileSync(join(big, 'action.yml'), composite + '#'.repeat(MAX_ACTION_FILE_BYTES));
    assert.match(JSON.stringify(await read(big)), /larger than 262144 bytes/);
    const fifo = dir('fifo');
    execFileSync('mkfifo', [join(fifo, 'action.yml')]);
    // Opened without blocking, then refused: a FIFO would otherwise hold the worker forever.
    assert.match(JSON.stringify(await read(fifo)), /is not a file inside the repository/);
  });
});
