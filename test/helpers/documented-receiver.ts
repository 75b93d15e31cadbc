import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './receiver.ts';

const ROOT = join(import.meta.dirname, '../..');

/** The code block of docs/receivers.md after `<!-- receiver-example:<marker> -->`, as a user copies it. */
export function receiverExample(marker: string): string {
  const text = readFileSync(join(ROOT, 'docs/receivers.md'), 'utf8');
  const at = text.indexOf(`<!-- receiver-example:${marker} -->`);
  const start = text.indexOf('\n', text.indexOf('```', at)) + 1;
  return text.slice(start, text.indexOf('```', start));
}

/**
 * Runs the documented Node receiver as its own process with `secret` on `port`, and waits until it
 * answers (401 to an unsigned request). `lines` collects what it prints, one message a line.
 */
export async function startDocumentedReceiver(
  port: number,
  secret: string,
): Promise<{ child: ChildProcess; lines: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'pushci-readme-'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'receiver.mjs'), receiverExample('node'));
  const child = spawn(process.execPath, [join(dir, 'receiver.mjs')], {
    env: { PATH: process.env.PATH!, CALLBACK_SECRET: secret, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  await waitFor(
    () =>
      fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' }).then(
        (r) => r.status === 401,
        () => false,
      ),
    10_000,
    'the receiver',
  );
  return { child, lines };
}
