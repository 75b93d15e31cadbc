import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const FIX = join(ROOT, 'test/fixtures/pipelines');

/** The CLI as a user runs it, with the same Node (npm scripts put Node 24 first on PATH). */
async function pushci(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await run(process.execPath, [join(ROOT, 'src/cli.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('pushci CLI', () => {
  it('validate prints file:line:col diagnostics and exits 1', async () => {
    const r = await pushci(['validate', join(FIX, 'malformed')], { A: 'whsec_a', B: 'whsec_b' });
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.length >= 15, r.stdout);
    for (const l of lines) assert.match(l, /^test\/fixtures\/pipelines\/malformed\/[a-z-]+\.yml:\d+:\d+: .+/);
    assert.match(r.stderr, /\d+ problem\(s\)/);
  });

  it('validate exits 0 on the shipped example pipelines', async () => {
    const r = await pushci(['validate']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /pipeline\(s\) valid: hello/);
  });

  it('schema writes the JSON Schema editors use', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pushci-schema-')), 'schema.json');
    assert.equal((await pushci(['schema', out])).code, 0);
    const schema = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(schema.type, 'object');
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required.sort(), ['jobs', 'on', 'repository']);
    assert.ok(schema.properties.jobs.additionalProperties.properties.steps);
  });

  it('serve without redis-server on PATH and without REDIS_URL says what to do', async () => {
    const data = mkdtempSync(join(tmpdir(), 'pushci-cli-'));
    const r = await pushci(['serve', '--port', '0', '--data-dir', data], { PATH: '/nonexistent' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no redis-server found on PATH: install one .* or set REDIS_URL/);
  });

  it('rejects unknown flags clearly', async () => {
    const r = await pushci(['serve', '--prot', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pushci: Unknown option '--prot'/);
  });
});
