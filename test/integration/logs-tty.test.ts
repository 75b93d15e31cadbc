import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

const ROOT = join(import.meta.dirname, '../..');

/** Runs `pushci <args>` on a real pseudo-terminal (util-linux `script`), returning what the terminal got. */
function onTerminal(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  const cmd = [process.execPath, join(ROOT, 'src/cli.ts'), ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  return new Promise((resolve) => {
    const p = spawn('script', ['-qefc', cmd, '/dev/null'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, TERM: 'xterm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

describe('pushci logs on a terminal', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let id: string;
  before(async () => {
    redis = await startRedis();
    repo = makeRepo([{ 'a.txt': '1' }]);
    // A step that tries what a hostile log can do to a terminal: set the title, write the clipboard,
    // clear the screen, move the cursor up to rewrite a line, ask the terminal to type an answer.
    const run = String.raw`printf '\033[32mgreen\033[0m ok\n\033]0;pwned-title\007\033]52;c;ZWNobyBwd25lZA==\007\033[2J\033[1A\033[2Kall tests passed\033[6n\n'`;
    server = await startServer(
      redis,
      {
        'web.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: ${JSON.stringify(run)}\n`,
      },
      { GITHUB_WEBHOOK_SECRET: 's' },
    );
    const r = await sendGithub(
      server.base,
      githubPush({ before: '0'.repeat(40), after: repo.commits[0]!, repo: 'octo-org/web' }),
      's',
    );
    id = r.json.builds[0].id as string;
    await waitFor(
      async () =>
        ['success', 'failure'].includes(
          ((await (await server.api(`/api/builds/${id}`)).json()) as BuildView).status,
        ),
      30_000,
      'build done',
    );
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('keeps colours and drops every other control sequence; piped, the log stays byte for byte', async () => {
    const env = { PUSHCI_URL: server.base, PUSHCI_API_TOKEN: server.token };
    const tty = await onTerminal(['logs', id], env);
    assert.equal(tty.code, 0, tty.out);
    assert.match(tty.out, /\x1b\[32mgreen\x1b\[0m ok/, 'SGR colours reach the terminal');
    assert.match(tty.out, /all tests passed/);
    for (const bad of ['\x1b]0;', '\x1b]52;', '\x1b[2J', '\x1b[1A', '\x1b[2K', '\x1b[6n', '\x07'])
      assert.ok(!tty.out.includes(bad), `${JSON.stringify(bad)} must not reach the terminal`);
    // Control: the API (and so a pipe or a file) keeps the log exactly as the step wrote it.
    const raw = await (await server.api(`/api/builds/${id}/jobs/j/log`)).text();
    assert.ok(
      raw.includes('\x1b]0;pwned-title\x07') && raw.includes('\x1b[2J'),
      'the stored log is unchanged',
    );
  });
});
