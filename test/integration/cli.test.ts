import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

  it('rejects unknown flags with a suggestion and exit code 2', async () => {
    const r = await pushci(['serve', '--prot', '1']);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr.trim(),
      'pushci serve: unknown flag --prot; did you mean --port? (see pushci serve --help)',
    );
    const far = await pushci(['logs', 'x', '--zzzzzz']);
    assert.equal(far.code, 2);
    assert.equal(
      far.stderr.trim(),
      'pushci logs: unknown flag --zzzzzz (see pushci logs --help)',
      'no wild guess',
    );
    const longer = await pushci(['trigger', 'hello', '--branch', 'main', '--repository', 'octo-org/x']);
    assert.equal(longer.code, 2);
    assert.equal(
      longer.stderr.trim(),
      'pushci trigger: unknown flag --repository; did you mean --repo? (see pushci trigger --help)',
      'a flag spelled out longer than its name',
    );
    const other = await pushci(['builds', '--follow']);
    assert.equal(other.code, 2, "another command's flag is unknown here");
    const value = await pushci(['logs', 'x', '--job']);
    assert.equal(value.code, 2);
    assert.match(value.stderr, /^pushci logs: --job needs a value/);
  });

  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = await pushci([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `pushci ${version}\n`);
    }
    assert.equal((await pushci(['--verbose'])).code, 2, 'control: another leading flag is still refused');
  });

  it('an unknown command gets a suggestion and exit code 2, with no stack trace', async () => {
    const r = await pushci(['valdiate']);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr.trim(),
      'pushci: unknown command "valdiate"; did you mean pushci validate? (pushci --help lists them)',
    );
    const far = await pushci(['frobnicate']);
    assert.equal(far.code, 2);
    assert.doesNotMatch(far.stderr, /did you mean|\n\s+at /);
    const own = await pushci(['artifacts', 'x', '--bogus']);
    assert.equal(own.code, 2, 'a command with its own parser: still one line and exit code 2');
    assert.match(own.stderr, /^pushci: Unknown option '--bogus'/);
    assert.doesNotMatch(own.stderr, /\n\s+at /);
    const endpoints = await pushci(['endpoints', 'lst']);
    assert.equal(endpoints.code, 2);
    assert.match(endpoints.stderr, /unknown action "lst"; did you mean list\?/);
  });

  it('--help and -h list every command; each command has its own help with its own flags', async () => {
    const [long, short] = await Promise.all([pushci(['--help']), pushci(['-h'])]);
    assert.equal(long.code, 0);
    assert.equal(short.stdout, long.stdout);
    const names = [...long.stdout.matchAll(/^ {2}pushci ([a-z-]+)/gm)].map((m) => m[1]!);
    assert.ok(names.includes('logs') && names.includes('endpoints') && names.length >= 14, long.stdout);
    const helps = await Promise.all(names.map((n) => pushci([n, n === 'endpoints' ? '--help' : '-h'])));
    for (const [i, h] of helps.entries()) {
      assert.equal(h.code, 0, `${names[i]} --help: ${h.stderr}`);
      assert.match(h.stdout, new RegExp(`pushci ${names[i]}`), names[i]);
      assert.notEqual(h.stdout, long.stdout, `${names[i]} has help of its own`);
    }
    const logs = helps[names.indexOf('logs')]!.stdout;
    assert.match(logs, /^Usage: pushci logs <build>/);
    assert.match(logs, /-f, --follow/);
    assert.doesNotMatch(logs, /--no-worker|--pipeline /, "no other command's flags");
    const again = await pushci(['help', 'logs']);
    assert.equal(again.stdout, logs, 'pushci help logs is the same');
    const settings = await pushci(['help', 'settings']);
    assert.match(settings.stdout, /--redis-url VALUE {2}\(REDIS_URL\)/);
  });

  it('a server that cannot be reached is one line that says what to set, exit code 1', async () => {
    const r = await pushci(['builds'], { PUSHCI_URL: 'http://127.0.0.1:9', PUSHCI_API_TOKEN: 't' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^pushci: cannot reach pushci at http:\/\/127\.0\.0\.1:9 .*set PUSHCI_URL/);
  });

  it('output piped into a slow reader arrives whole before the process exits (more than a pipe buffer)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-many-'));
    for (let i = 0; i < 800; i++) writeFileSync(join(dir, `pipeline-number-${i}.yml`), 'on: push\n');
    const direct = await pushci(['validate', dir]);
    assert.equal(direct.code, 1);
    assert.ok(direct.stdout.length > 100_000, 'more than the 64 KiB a pipe holds');
    const slow = await run(
      'sh',
      ['-c', `"${process.execPath}" src/cli.ts validate "${dir}" | (sleep 1; wc -c)`],
      {
        cwd: ROOT,
      },
    );
    assert.equal(Number(slow.stdout.trim()), Buffer.byteLength(direct.stdout));
  });
});
