import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readAction } from '../../src/runner/load-action.ts';

const action = (name: string) =>
  `name: ${name}\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n      shell: bash\n`;

/**
 * A local action is read from the checkout while the job's services (and earlier steps' leftovers) can
 * still change it: a process that keeps swapping action.yml for a symlink to a file of the worker must
 * never get that file read, while the real action.yml still loads.
 */
describe('readAction against a concurrent symlink swap', () => {
  it('never reads a file outside the checkout; the action inside still loads', async () => {
    const base = mkdtempSync(join(tmpdir(), 'pushci-test-action-race-'));
    const outside = join(base, 'worker-file.yml');
    writeFileSync(outside, action('OUTSIDE-THE-CHECKOUT'));
    const src = join(base, 'src');
    const dir = join(src, 'act');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'real.yml'), action('inside'));
    writeFileSync(join(dir, 'action.yml'), action('inside'));
    // The attack: a loop in the checkout that swaps the file for a symlink and back, as fast as it can.
    const swapper = spawn(
      'bash',
      ['-c', `while :; do ln -sfn "$OUT" l && mv -T l action.yml; cp real.yml f && mv -T f action.yml; done`],
      { cwd: dir, env: { ...process.env, OUT: outside }, stdio: 'ignore' },
    );
    const realSrc = realpathSync(src);
    let leaked = 0;
    let loaded = 0;
    try {
      const t0 = Date.now();
      // The old check-then-read leaked within about 100 ms; 4 s of tries without a leak is the claim.
      while (Date.now() - t0 < 4000) {
        const r = await readAction(dir, realSrc, './act', 'act', (x) => x);
        if ('problem' in r) continue;
        if (r.def.name === 'OUTSIDE-THE-CHECKOUT') leaked++;
        else loaded++;
      }
    } finally {
      swapper.kill('SIGKILL');
    }
    assert.equal(leaked, 0, 'a file outside the checkout was read');
    assert.ok(loaded > 0, 'the real action.yml loaded between the swaps (the control)');
  });
});
