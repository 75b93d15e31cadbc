import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRedis, type TestRedis } from '../helpers/redis.ts';

const ROOT = join(import.meta.dirname, '../..');

/**
 * `pushci serve` from a first start until it printed its login link, on a real pseudo-terminal
 * (util-linux `script`) or on a pipe; then SIGINT. Returns what stdout got.
 */
function serveUntilLink(env: Record<string, string>, terminal: boolean): Promise<string> {
  const argv = [process.execPath, join(ROOT, 'src/cli.ts'), 'serve', '--no-worker'];
  const [cmd, args] = terminal
    ? ['script', ['-qefc', argv.map((a) => `'${a}'`).join(' '), '/dev/null']]
    : [argv[0]!, argv.slice(1)];
  return new Promise((resolve, reject) => {
    const p = spawn(cmd as string, args as string[], {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, TERM: 'xterm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      // The line after the link (blank on a terminal, the next JSON line's end on a pipe) is in.
      if (/login\?token=[\w-]{43}[^\n]*\n/.test(out)) p.kill('SIGINT');
    });
    p.on('error', reject);
    p.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

describe('pushci serve: start-up lines for a person and for log shippers', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });
  const env = () => ({
    REDIS_URL: redis.url,
    PORT: '0',
    GITHUB_WEBHOOK_SECRET: 's',
    PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-serve-tty-')),
  });

  it('on a terminal: readable lines, and the login link alone on a line of its own', async () => {
    const out = (await serveUntilLink(env(), true)).replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
    const lines = out.split('\n');
    assert.ok(!lines.some((l) => l.startsWith('{')), out);
    assert.ok(
      lines.some((l) => /^\[\d\d:\d\d:\d\d\] INFO: pushci is listening \{"url":/.test(l)),
      out,
    );
    assert.ok(
      lines.some((l) => /^\[\d\d:\d\d:\d\d\] INFO: open the dashboard with this link/.test(l)),
      out,
    );
    const link = lines.filter((l) => l.includes('/login?token='));
    assert.equal(link.length, 1, out);
    assert.match(link[0]!, /^\s*http:\/\/localhost:\d+\/login\?token=[\w-]{43}$/);
  });

  it('on a pipe: JSON lines, the link in one of them', async () => {
    const out = await serveUntilLink(env(), false);
    const lines = out.split('\n').filter(Boolean);
    const parsed = lines.map((l) => JSON.parse(l) as { msg: string; login_url?: string });
    const link = parsed.filter((l) => l.msg.includes('/login?token='));
    assert.equal(link.length, 1, out);
    assert.match(link[0]!.msg, /^open the dashboard: http:\/\/localhost:\d+\/login\?token=[\w-]{43}$/);
    assert.equal(link[0]!.login_url, link[0]!.msg.slice('open the dashboard: '.length));
  });
});
