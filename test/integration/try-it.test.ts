import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.ts';

const ROOT = join(import.meta.dirname, '../..');

/** The README's "Try it in a minute" commands, exactly as a reader pastes them. */
function tryItBlock(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('## Try it in a minute');
  assert.ok(at >= 0, 'the README has "Try it in a minute"');
  const block = readme.slice(at).split('```sh\n')[1]?.split('\n```')[0];
  assert.ok(block, 'the section has a sh block');
  return block;
}

/** Runs a bash script in its own process group (its `npm start &` included); resolves with its output. */
function bash(script: string, cwd: string, env: NodeJS.ProcessEnv, groups: number[]) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const p = spawn('bash', ['-c', script], { cwd, env, detached: true });
    groups.push(p.pid!);
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

/**
 * "Try it in a minute", pasted into a shell in a fresh clone (with this checkout's node_modules, as after
 * `npm install`): the server starts, the signed push is accepted, and `npx pushci logs --follow <id>` follows the
 * build of the hello pipeline to its success. Only the port (a free one) and the build id (the one the
 * server answered) are filled in, as a reader would.
 */
describe('the README: Try it in a minute', () => {
  let redis: TestRedis;
  let dir: string;
  const groups: number[] = [];
  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'pushci-try-it-'));
    execFileSync('git', ['clone', '-q', '--shared', ROOT, join(dir, 'pushci')]);
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'pushci', 'node_modules'));
  });
  after(async () => {
    for (const g of groups) {
      try {
        process.kill(-g, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
    await redis?.stop();
  });

  it('starts, accepts the signed push, and pushci logs follows the build to success', async () => {
    const port = await freePort();
    const lines = tryItBlock().replaceAll('localhost:3000', `localhost:${port}`).split('\n');
    const logsAt = lines.findIndex((l) => l.startsWith('npx pushci logs --follow <id>'));
    assert.ok(logsAt > 0, 'the block ends by following the build with npx pushci logs --follow <id>');
    const cwd = join(dir, 'pushci');
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      REDIS_URL: redis.url,
      PUSHCI_QUEUE_PREFIX: redis.prefix,
    };
    const first = await bash(lines.slice(0, logsAt).join('\n'), cwd, env, groups);
    assert.equal(first.code, 0, first.err);
    const answer = /\{"builds":\[\{"id":"([^"]+)","pipeline":"hello","number":1,"status":"queued"/.exec(
      first.out,
    );
    assert.ok(answer, `the push was accepted as the README shows: ${first.out.slice(0, 2000)}`);
    const logs = await bash(lines[logsAt]!.replace('<id>', answer[1]!), cwd, env, groups);
    assert.equal(logs.code, 0, logs.err);
    // The result line goes to stderr, after the log on stdout.
    assert.match(logs.err, /hello#1 success/);
    assert.match(logs.out, /step "list the checkout" succeeded/);
  });
});
