import { parseArgs } from 'node:util';
import { ApiClient } from '../../api-client.ts';
import { loadConfig } from '../../config.ts';
import { SETTINGS } from '../../settings.ts';
import { ConfigError, UsageError } from '../../errors.ts';
import { didYouMean } from '../did-you-mean.ts';
import type { RawCommand } from '../command.ts';
import type { EndpointView } from '../../notify/endpoint-schema.ts';

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

const ENDPOINT_ACTIONS = ['add', 'list', 'show', 'rm', 'rotate', 'pause', 'resume', 'test'];

const list = (text: string | undefined) =>
  text === undefined
    ? undefined
    : text
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
const pct = (rate: number | null) => (rate === null ? '-' : `${Math.round(rate * 1000) / 10}%`);
const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : 'never');

interface Delivery {
  id: string;
  type: string;
  state: string;
  build_id: string;
  attempts: number;
  attempt_log: Array<{ status: number | null; error: string | null; duration_ms: number; at: string }>;
}

function summary(e: EndpointView): string {
  const from = e.source === 'api' ? 'api' : e.source === 'pipeline' ? `pipeline ${e.pipeline}` : 'global';
  return [
    e.id.padEnd(26),
    e.state.padEnd(8),
    from.padEnd(18),
    pct(e.stats.success_rate_24h).padStart(6),
    ` ${e.url}`,
  ].join(' ');
}

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
  const json = Boolean(values.json);
  const print = (data: unknown, text: () => void) =>
    json ? console.log(JSON.stringify(data, null, 2)) : text();
  const need = (what: string) => {
    if (!target)
      throw new UsageError(`usage: pushci endpoints ${action} <${what}>  (pushci endpoints --help)`);
    return encodeURIComponent(target);
  };
  const post = <T>(path: string, body: unknown = {}) =>
    api.json<T>(path, { method: 'POST', body: JSON.stringify(body) });

  switch (action) {
    case 'add': {
      if (!target)
        throw new UsageError('usage: pushci endpoints add <url> [--events ...] (pushci endpoints --help)');
      const body: Record<string, unknown> = { url: target };
      for (const k of ['events', 'pipelines', 'branches'] as const)
        if (str(k) !== undefined) body[k] = list(str(k));
      if (str('description') !== undefined) body.description = str('description');
      if (str('secret') !== undefined) body.secret = str('secret');
      if (str('on-pause') !== undefined) body.on_pause = str('on-pause');
      const e = await post<EndpointView & { secret: string }>('/api/endpoints', body);
      print(e, () => {
        console.log(`registered ${e.id} → ${e.url}`);
        console.log(`  events: ${e.events.join(', ')}`);
        if (e.pipelines.length) console.log(`  pipelines: ${e.pipelines.join(', ')}`);
        if (e.branches.length) console.log(`  branches: ${e.branches.join(', ')}`);
        console.log(
          `\nSigning secret (shown only now; give it to the receiver, e.g. as CALLBACK_SECRET):\n  ${e.secret}`,
        );
      });
      return 0;
    }
    case 'list':
    case 'ls': {
      const r = await api.json<{ endpoints: EndpointView[] }>('/api/endpoints');
      print(r, () => {
        if (r.endpoints.length === 0) console.log('no endpoints; add one: pushci endpoints add <url>');
        else
          console.log(
            `${'ID'.padEnd(26)} ${'STATE'.padEnd(8)} ${'FROM'.padEnd(18)} ${'OK 24H'.padStart(6)}  URL`,
          );
        for (const e of r.endpoints) console.log(summary(e));
      });
      return 0;
    }
    case 'show': {
      const id = need('id');
      const q = new URLSearchParams({ limit: str('limit') ?? '20' });
      if (str('type')) q.set('type', str('type')!);
      if (str('state')) q.set('state', str('state')!);
      const [e, log] = await Promise.all([
        api.json<EndpointView>(`/api/endpoints/${id}`),
        api.json<{ deliveries: Delivery[] }>(`/api/endpoints/${id}/deliveries?${q}`),
      ]);
      print({ ...e, deliveries: log.deliveries }, () => {
        console.log(`${e.id}  ${e.state}${e.state_reason ? ` (${e.state_reason})` : ''}`);
        console.log(`  url:         ${e.url}`);
        if (e.description) console.log(`  description: ${e.description}`);
        console.log(`  events:      ${e.events.join(', ')}`);
        console.log(`  pipelines:   ${e.pipelines.join(', ') || 'all'}`);
        console.log(`  branches:    ${e.branches.join(', ') || 'all'}`);
        if (e.source === 'api') console.log(`  on pause:    ${e.on_pause}`);
        if (e.previous_secret_valid_until)
          console.log(
            `  rotation:    the previous secret signs too until ${when(e.previous_secret_valid_until)}`,
          );
        const s = e.stats;
        console.log(
          `  last 24 h:   ${pct(s.success_rate_24h)} of ${s.attempts_24h} attempts succeeded; last success ${when(s.last_success_at)}${s.failing_since ? `; failing since ${when(s.failing_since)}` : ''}`,
        );
        console.log(`\n${'STATE'.padEnd(10)} ${'EVENT'.padEnd(16)} ${'TRIES'.padStart(5)}  LAST ANSWER`);
        for (const d of log.deliveries) {
          const a = d.attempt_log.at(-1);
          const answer = a ? `${a.status ?? '-'} ${a.duration_ms} ms${a.error ? `  ${a.error}` : ''}` : '';
          console.log(
            `${d.state.padEnd(10)} ${d.type.padEnd(16)} ${String(d.attempts).padStart(5)}  ${answer}  ${d.id}`,
          );
        }
        if (log.deliveries.length === 0) console.log('(no deliveries yet)');
      });
      return 0;
    }
    case 'rm':
    case 'delete': {
      const id = need('id');
      const res = await api.fetch(`/api/endpoints/${id}`, { method: 'DELETE' });
      if (res.status !== 204) {
        const body = (await res.json().catch(() => null)) as { message?: string } | null;
        throw new ConfigError(`${res.status}: ${body?.message ?? res.statusText}`);
      }
      print({ id: target, deleted: true }, () => console.log(`deleted ${target}`));
      return 0;
    }
    case 'rotate': {
      const id = need('id');
      const body: Record<string, unknown> = {};
      if (str('overlap') !== undefined) body.overlap = str('overlap');
      if (str('secret') !== undefined) body.secret = str('secret');
      const r = await post<{ secret: string; previous_secret_valid_until: string }>(
        `/api/endpoints/${id}/rotate-secret`,
        body,
      );
      print(r, () => {
        console.log(`New signing secret of ${target} (shown only now):\n  ${r.secret}`);
        console.log(
          `Messages carry a signature with the previous secret too until ${when(r.previous_secret_valid_until)}.`,
        );
      });
      return 0;
    }
    case 'pause': {
      const id = need('id');
      const body = str('on-pause') ? { on_pause: str('on-pause') } : {};
      const e = await post<EndpointView>(`/api/endpoints/${id}/pause`, body);
      print(e, () =>
        console.log(
          `paused ${e.id}: messages are ${e.on_pause === 'keep' ? 'kept and delivered on resume' : 'dropped'}`,
        ),
      );
      return 0;
    }
    case 'resume':
    case 'enable': {
      const id = need('id');
      const e = await post<EndpointView & { released: number }>(`/api/endpoints/${id}/resume`);
      print(e, () => console.log(`resumed ${e.id}; ${e.released} held message(s) are being delivered`));
      return 0;
    }
    case 'test': {
      const id = need('id');
      const t = await post<{ id: string }>(`/api/endpoints/${id}/test`, {
        type: str('type') ?? 'build.completed',
      });
      // The message goes through the queue like any other: wait for its first answer.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const res = await api.fetch(`/api/deliveries/${encodeURIComponent(t.id)}`);
        const d = res.ok ? ((await res.json()) as Delivery & { state: string }) : null;
        if (d && d.state !== 'held' && d.attempt_log.length > 0) {
          const a = d.attempt_log.at(-1)!;
          const ok = d.state === 'delivered';
          print(d, () =>
            console.log(
              `${ok ? '✔' : '✘'} ${t.id}: ${a.status ?? '-'} in ${a.duration_ms} ms${a.error ? `  ${a.error}` : ''}`,
            ),
          );
          return ok ? 0 : 1;
        }
        if (Date.now() > deadline) {
          print({ id: t.id, state: 'pending' }, () =>
            console.log(
              `${t.id} is queued but has no answer after 60 s; see pushci endpoints show ${target}`,
            ),
          );
          return 1;
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    default:
      const meant = didYouMean(action, ENDPOINT_ACTIONS);
      throw new UsageError(
        `pushci endpoints: unknown action "${action}"${meant ? `; did you mean ${meant}?` : ''} (see pushci endpoints --help)`,
      );
  }
}

export const endpoints: RawCommand = {
  name: 'endpoints',
  summary:
    'Registers and watches the endpoints that receive build results (add, list, show, rm, rotate, pause, resume, test).',
  usage: 'add|list|show|rm|rotate|pause|resume|test ...',
  raw: (argv) => endpointsCommand(argv),
};
