import type { ApiClient } from '../../api-client.ts';
import { ConfigError, UsageError } from '../../errors.ts';
import type { EndpointView } from '../../notify/endpoint-schema.ts';

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

/** What every action gets: the parsed command line and the API. */
export interface EndpointActionContext {
  api: ApiClient;
  /** The action's argument (a URL or an endpoint id), if given. */
  target: string | undefined;
  str(flag: string): string | undefined;
  /** Prints `data` as JSON with --json, else runs `text`. */
  print(data: unknown, text: () => void): void;
  /** The argument, URL-encoded; a usage error naming `what` when it is missing. */
  need(what: string): string;
  post<T>(path: string, body?: unknown): Promise<T>;
}

/** Each action of `pushci endpoints` (and its alias) by name. */
export const ENDPOINT_ACTIONS: Record<string, (ctx: EndpointActionContext) => Promise<number>> = {
  add: addEndpoint,
  list: listEndpoints,
  ls: listEndpoints,
  show: showEndpoint,
  rm: removeEndpoint,
  delete: removeEndpoint,
  rotate: rotateSecret,
  pause: pauseEndpoint,
  resume: resumeEndpoint,
  enable: resumeEndpoint,
  test: testEndpoint,
};

/** `add <url>`: registers an endpoint and shows its secret, once. */
async function addEndpoint({ target, str, print, post }: EndpointActionContext): Promise<number> {
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

/** `list`: every endpoint, one line each. */
async function listEndpoints({ api, print }: EndpointActionContext): Promise<number> {
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

/** `show <id>`: one endpoint, its last 24 hours and its delivery log. */
async function showEndpoint({ api, str, print, need }: EndpointActionContext): Promise<number> {
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

/** `rm <id>`: deletes a registered endpoint. */
async function removeEndpoint({ api, target, print, need }: EndpointActionContext): Promise<number> {
  const id = need('id');
  const res = await api.fetch(`/api/endpoints/${id}`, { method: 'DELETE' });
  if (res.status !== 204) {
    const body = (await res.json().catch(() => null)) as { message?: string } | null;
    throw new ConfigError(`${res.status}: ${body?.message ?? res.statusText}`);
  }
  print({ id: target, deleted: true }, () => console.log(`deleted ${target}`));
  return 0;
}

/** `rotate <id>`: a new secret; the old one signs too during the overlap. */
async function rotateSecret({ target, str, print, need, post }: EndpointActionContext): Promise<number> {
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

/** `pause <id>`: holds (or drops) its messages until it is resumed. */
async function pauseEndpoint({ str, print, need, post }: EndpointActionContext): Promise<number> {
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

/** `resume <id>`: delivers again, held messages first. */
async function resumeEndpoint({ print, need, post }: EndpointActionContext): Promise<number> {
  const id = need('id');
  const e = await post<EndpointView & { released: number }>(`/api/endpoints/${id}/resume`);
  print(e, () => console.log(`resumed ${e.id}; ${e.released} held message(s) are being delivered`));
  return 0;
}

/** `test <id>`: sends an example message and waits for its first answer. */
async function testEndpoint({ api, target, str, print, need, post }: EndpointActionContext): Promise<number> {
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
        console.log(`${t.id} is queued but has no answer after 60 s; see pushci endpoints show ${target}`),
      );
      return 1;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}
