import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/redis.ts';
import { waitForHttp } from '../helpers/receiver.ts';

/**
 * The classic `webhook` tool (Debian package `webhook`) with one hook: an HMAC-SHA256 rule on the same
 * header and secret GitHub uses, spawning /bin/true for every push it accepts.
 *
 * It answers 200 as soon as the rule matches and runs the command afterwards in the background: under
 * load it keeps spawning /bin/true for many seconds after its last answer (measured: 5 s of load, 11 s
 * of catching up on 2 cores). The bench waits for that before measuring anything else (see
 * process-cpu.ts `waitIdle`), and reports the rate at which its commands ran next to the rate at which it
 * answered.
 */
export async function startWebhookTool(secret: string) {
  const dir = mkdtempSync(join(tmpdir(), 'pushci-bench-webhook-'));
  const hooks = [
    {
      id: 'push',
      'execute-command': '/bin/true',
      'trigger-rule': {
        match: {
          type: 'payload-hmac-sha256',
          secret,
          parameter: { source: 'header', name: 'X-Hub-Signature-256' },
        },
      },
    },
  ];
  writeFileSync(join(dir, 'hooks.json'), JSON.stringify(hooks));
  const port = await freePort();
  const proc = spawn(
    'webhook',
    ['-hooks', join(dir, 'hooks.json'), '-ip', '127.0.0.1', '-port', String(port)],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, { ms: 10_000, what: 'webhook', anyStatus: true });
  return { proc, url };
}
