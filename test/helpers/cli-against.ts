import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestServer } from './server.ts';

const CLI = join(import.meta.dirname, '../../src/cli.ts');

/**
 * A function that runs `pushci <command> <args>` in `cwd` against `server` (its URL and API token in the
 * environment, nothing else of ours) and returns what it printed. Not execFileSync: the server answering
 * it runs in this very process.
 */
export function cliAgainst(
  server: TestServer,
  cwd: string,
  command: string,
): (...args: string[]) => Promise<string> {
  const env = { PATH: process.env.PATH ?? '', PUSHCI_URL: server.base, PUSHCI_API_TOKEN: server.token };
  return async (...args) =>
    (await promisify(execFile)(process.execPath, [CLI, command, ...args], { cwd, env, encoding: 'utf8' }))
      .stdout;
}
