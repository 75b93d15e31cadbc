import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '../..');

describe('pushci validate piped into a slow reader', () => {
  it('prints every problem before it exits, however slowly its output is read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-validate-pipe-'));
    const JOBS = 1500;
    const jobs = Array.from(
      { length: JOBS },
      (_, i) => `  job${i}:\n    needs: [missing${i}]\n    steps:\n      - run: make\n`,
    );
    writeFileSync(join(dir, 'many.yml'), `repository: octo-org/web\non: push\njobs:\n${jobs.join('')}`);
    const child = spawn(process.execPath, [join(ROOT, 'src/cli.ts'), 'validate', dir], {
      cwd: ROOT,
      env: { PATH: process.env.PATH! },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Read nothing for a while: the pipe fills (64 KiB) long before the output ends.
    child.stdout.pause();
    await new Promise((r) => setTimeout(r, 1500));
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stdout.resume();
    const code = await new Promise<number | null>((r) => child.on('close', r));
    const out = Buffer.concat(chunks).toString('utf8');
    assert.ok(out.length > 64 * 1024, `only ${out.length} bytes`);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, JOBS);
    assert.match(lines.at(-1)!, new RegExp(`needs "missing${JOBS - 1}"`));
    assert.equal(code, 1);
  });
});
