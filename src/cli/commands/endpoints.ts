import { parseArgs } from 'node:util';
import { ApiClient } from '../../api-client.ts';
import { loadConfig } from '../../config.ts';
import { SETTINGS } from '../../settings.ts';
import { UsageError } from '../../errors.ts';
import { didYouMean } from '../did-you-mean.ts';
import type { RawCommand } from '../command.ts';
import { ENDPOINT_ACTIONS } from './endpoint-actions.ts';

export const ENDPOINTS_USAGE = `pushci endpoints: register and watch the endpoints that receive build results

Usage:
  pushci endpoints add <url> [--events E,E] [--pipelines P,P] [--branches B,B] [--description D]
                             [--secret whsec_...] [--on-pause keep|drop]
                                       register; prints the id and the secret (shown only now)
  pushci endpoints list                every endpoint: registered, pipeline notify, PUSHCI_NOTIFY_URLS
  pushci endpoints show <id> [--limit N] [--type T] [--state S]
                                       one endpoint, its last 24 hours and its delivery log
  pushci endpoints rm <id>             delete a registered endpoint
  pushci endpoints rotate <id> [--overlap 24h] [--secret whsec_...]
                                       a new secret; the old one signs too during the overlap
  pushci endpoints pause <id> [--on-pause keep|drop]
  pushci endpoints resume <id>         deliver again (held messages first); also re-enables
  pushci endpoints test <id> [--type build.completed]
                                       send an example message and wait for its answer

Every command takes --json, and talks to a running server (PUSHCI_URL, PUSHCI_API_TOKEN).`;

const ENDPOINT_ACTION_NAMES = ['add', 'list', 'show', 'rm', 'rotate', 'pause', 'resume', 'test'];

/** `pushci endpoints ...`: parses its own flags, then talks to the server's API. Returns the exit code. */
export async function endpointsCommand(argv: string[], env = process.env): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    json: { type: 'boolean' },
    events: { type: 'string' },
    pipelines: { type: 'string' },
    branches: { type: 'string' },
    description: { type: 'string' },
    secret: { type: 'string' },
    'on-pause': { type: 'string' },
    overlap: { type: 'string' },
    type: { type: 'string' },
    state: { type: 'string' },
    limit: { type: 'string' },
  };
  for (const s of SETTINGS) options[s.flag] ??= { type: s.kind === 'bool' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec((err as Error).message)?.[1];
    if (!unknown) throw new UsageError(`pushci endpoints: ${(err as Error).message}`);
    const meant = didYouMean(unknown.replace(/^-+/, ''), Object.keys(options));
    throw new UsageError(
      `pushci endpoints: unknown flag ${unknown}${meant ? `; did you mean --${meant}?` : ''} (see pushci endpoints --help)`,
    );
  }
  const { values, positionals } = parsed;
  const [action, target] = positionals;
  if (values.help || !action) {
    console.log(ENDPOINTS_USAGE);
    return action || values.help ? 0 : 2;
  }
  const api = new ApiClient(loadConfig(env, values as Record<string, string | boolean>));
  const str = (k: string) => values[k] as string | undefined;
  const print = (data: unknown, text: () => void) =>
    values.json ? console.log(JSON.stringify(data, null, 2)) : text();
  const need = (what: string) => {
    if (!target)
      throw new UsageError(`usage: pushci endpoints ${action} <${what}>  (pushci endpoints --help)`);
    return encodeURIComponent(target);
  };
  const post = <T>(path: string, body: unknown = {}) =>
    api.json<T>(path, { method: 'POST', body: JSON.stringify(body) });

  const run = Object.hasOwn(ENDPOINT_ACTIONS, action) ? ENDPOINT_ACTIONS[action] : undefined;
  if (!run) {
    const meant = didYouMean(action, ENDPOINT_ACTION_NAMES);
    throw new UsageError(
      `pushci endpoints: unknown action "${action}"${meant ? `; did you mean ${meant}?` : ''} (see pushci endpoints --help)`,
    );
  }
  return run({ api, target, str, print, need, post });
}

export const endpoints: RawCommand = {
  name: 'endpoints',
  summary:
    'Registers and watches the endpoints that receive build results (add, list, show, rm, rotate, pause, resume, test).',
  usage: 'add|list|show|rm|rotate|pause|resume|test ...',
  raw: (argv) => endpointsCommand(argv),
};
