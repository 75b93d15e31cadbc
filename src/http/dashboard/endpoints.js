// The Endpoints page: every endpoint (registered, pipeline `notify`, PUSHCI_NOTIFY_URLS), registering one
// (its secret shown once), editing, rotating, pausing, deleting, and the delivery log with a chart.
// The page's helpers (h, api, status, ...) come from app.js, so it shares its login and error handling.

const EVENTS = ['build.queued', 'build.started', 'job.completed', 'build.completed'];
const STATES = ['delivered', 'retrying', 'failed', 'held', 'dropped'];

/** A write: JSON, as the API's cross-site protection asks of every state-changing request. */
const send = async (ui, method, path, body = {}) => {
  const init = { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  if (method !== 'DELETE') return ui.api(path, init);
  // 204 has no body for app.js's api() to parse.
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  if (!res.ok) throw new Error(((await res.json().catch(() => null)) ?? {}).message ?? `${res.status}`);
  return null;
};

const list = (text) =>
  text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const pct = (rate) => (rate == null ? '—' : `${Math.round(rate * 1000) / 10}%`);
const stateBadge = (ui, e) =>
  ui.h(
    'span',
    {
      class: `status ${e.state === 'active' ? 'success' : e.state === 'disabled' ? 'failure' : 'queued'}`,
      'data-state': e.state,
      title: e.state_reason ?? '',
    },
    e.state,
  );

/** Shows a secret once, with a copy button; nothing keeps it after the page changes. */
function secretPanel(ui, secret, what) {
  const copied = ui.h('span', { class: 'muted' });
  const value = ui.h('code', { class: 'secret', 'data-testid': 'secret' }, secret);
  return ui.h(
    'div',
    { class: 'secret-panel', 'data-testid': 'secret-panel' },
    ui.h('p', {}, ui.h('b', {}, what), ' Copy it now: it is shown only this once.'),
    value,
    ' ',
    ui.h(
      'button',
      {
        'data-testid': 'copy',
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(secret);
            copied.textContent = ' copied';
          } catch {
            // No clipboard (plain http, or denied): select it for Ctrl+C instead.
            const range = document.createRange();
            range.selectNodeContents(value);
            getSelection().removeAllRanges();
            getSelection().addRange(range);
            copied.textContent = ' selected: press Ctrl+C';
          }
        },
      },
      'Copy',
    ),
    copied,
  );
}

function endpointForm(ui, e, onSubmit) {
  const field = (label, input) => ui.h('label', { class: 'field' }, ui.h('span', {}, label), input);
  const events = EVENTS.map((t) =>
    ui.h(
      'label',
      { class: 'check' },
      ui.h('input', { type: 'checkbox', name: 'events', value: t, checked: !e || e.events.includes(t) }),
      ` ${t}`,
    ),
  );
  const problem = ui.h('p', { class: 'problems', 'data-testid': 'form-problem' });
  return ui.h(
    'form',
    {
      class: 'endpoint-form',
      'data-testid': 'endpoint-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const f = ev.target.elements;
        const body = {
          url: f.url.value.trim(),
          description: f.description.value,
          events: [...f.events].filter((c) => c.checked).map((c) => c.value),
          pipelines: list(f.pipelines.value),
          branches: list(f.branches.value),
          on_pause: f.on_pause.value,
        };
        problem.textContent = '';
        try {
          await onSubmit(body);
        } catch (err) {
          problem.textContent = err.message;
        }
      },
    },
    field(
      'URL',
      ui.h('input', { name: 'url', required: true, value: e?.url ?? '', placeholder: 'https://…' }),
    ),
    field('Description', ui.h('input', { name: 'description', value: e?.description ?? '' })),
    field('Events', ui.h('div', {}, ...events)),
    field(
      'Pipelines',
      ui.h('input', {
        name: 'pipelines',
        value: e?.pipelines.join(', ') ?? '',
        placeholder: 'all (globs: web, api-*, !old)',
      }),
    ),
    field(
      'Branches',
      ui.h('input', {
        name: 'branches',
        value: e?.branches.join(', ') ?? '',
        placeholder: 'all (globs: main, release/**)',
      }),
    ),
    field(
      'While paused',
      ui.h(
        'select',
        { name: 'on_pause' },
        ui.h(
          'option',
          { value: 'keep', selected: e?.on_pause !== 'drop' },
          'keep messages, deliver on resume',
        ),
        ui.h('option', { value: 'drop', selected: e?.on_pause === 'drop' }, 'drop messages'),
      ),
    ),
    ui.h('button', { type: 'submit', 'data-testid': 'save' }, e ? 'Save' : 'Register'),
    problem,
  );
}

// A secret just created, for the endpoint page to show once (then forgotten).
let fresh = null;
// The timer that refreshes the open endpoint's delivery log.
let timer = null;

/** `#/endpoints`: every endpoint, and the form to register one. */
export async function endpointsPage(ui) {
  const { endpoints } = await ui.api('/api/endpoints');
  if (!ui.still('#/endpoints')) return;
  const shown = ui.h('div', {});
  const formSlot = ui.h('div', {});
  const openForm = () =>
    formSlot.replaceChildren(
      endpointForm(ui, null, async (body) => {
        const created = await send(ui, 'POST', '/api/endpoints', body);
        // The secret goes on the endpoint's own page, once; a reload there does not show it again.
        fresh = { id: created.id, secret: created.secret };
        location.hash = `#/endpoints/${created.id}`;
      }),
    );
  shown.append(
    endpoints.length === 0
      ? ui.h('p', { class: 'muted', 'data-testid': 'empty' }, 'No endpoints yet.')
      : ui.h(
          'table',
          { 'data-testid': 'endpoints' },
          ui.h(
            'tr',
            {},
            ...['State', 'URL', 'From', 'Events', 'Success (24 h)', 'Last success'].map((t) =>
              ui.h('th', {}, t),
            ),
          ),
          ...endpoints.map((e) =>
            ui.h(
              'tr',
              {
                class: `build endpoint ${e.state}`,
                'data-endpoint': e.id,
                onclick: () => (location.hash = `#/endpoints/${e.id}`),
              },
              ui.h('td', {}, stateBadge(ui, e)),
              ui.h(
                'td',
                { class: 'mono' },
                e.url,
                e.description ? ui.h('div', { class: 'muted' }, e.description) : null,
              ),
              ui.h(
                'td',
                {},
                e.source === 'api'
                  ? 'API'
                  : e.source === 'pipeline'
                    ? `pipeline ${e.pipeline}`
                    : 'PUSHCI_NOTIFY_URLS',
              ),
              ui.h('td', {}, e.events.join(', ')),
              ui.h(
                'td',
                {},
                pct(e.stats.success_rate_24h),
                ui.h('span', { class: 'muted' }, ` of ${e.stats.attempts_24h}`),
              ),
              ui.h('td', { class: 'muted' }, ui.ago(e.stats.last_success_at)),
            ),
          ),
        ),
  );
  ui.main.replaceChildren(
    ui.h('h2', {}, 'Endpoints'),
    ui.h(
      'p',
      { class: 'muted' },
      'Where build results go. Registered endpoints are managed here; the others come from pipeline files (notify) and PUSHCI_NOTIFY_URLS.',
    ),
    ui.h('button', { 'data-testid': 'new-endpoint', onclick: openForm }, 'Register an endpoint'),
    formSlot,
    shown,
  );
  return { kind: 'endpoints' };
}

/** An SVG bar chart of the last 24 hours: delivered attempts up in green, failed ones in red. */
function chart(ui, hours) {
  const svg = (tag, attrs) => {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    return el;
  };
  const W = 24 * 20;
  const H = 80;
  const max = Math.max(1, ...hours.map((b) => b.ok + b.failed));
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H + 14}`,
    class: 'chart',
    'data-testid': 'chart',
    role: 'img',
  });
  hours.forEach((b, i) => {
    const okH = (b.ok / max) * H;
    const failH = (b.failed / max) * H;
    const title = svg('title', {});
    title.textContent = `${new Date(b.hour).toLocaleString()}: ${b.ok} delivered, ${b.failed} failed${b.mean_ms != null ? `, ${b.mean_ms} ms on average` : ''}`;
    const g = svg('g', { 'data-hour': b.hour });
    g.append(title);
    g.append(svg('rect', { x: i * 20 + 2, y: H - okH - failH, width: 16, height: okH, class: 'ok' }));
    g.append(svg('rect', { x: i * 20 + 2, y: H - failH, width: 16, height: failH, class: 'fail' }));
    root.append(g);
  });
  root.append(svg('line', { x1: 0, x2: W, y1: H, y2: H, class: 'axis' }));
  const label = (x, anchor, text) => {
    const t = svg('text', { x, y: H + 13, 'text-anchor': anchor, class: 'label' });
    t.textContent = text;
    root.append(t);
  };
  label(0, 'start', '24 h ago');
  label(W, 'end', 'now');
  return root;
}

function attemptsRow(ui, d) {
  return ui.h(
    'tr',
    { class: 'attempts' },
    ui.h(
      'td',
      { colspan: 6 },
      ui.h(
        'table',
        {},
        ui.h('tr', {}, ...['#', 'At', 'Status', 'Latency', 'Error', 'Answer'].map((t) => ui.h('th', {}, t))),
        ...d.attempt_log.map((a) =>
          ui.h(
            'tr',
            {},
            ui.h('td', {}, a.attempt),
            ui.h('td', { class: 'muted' }, ui.ago(a.at)),
            ui.h('td', { class: 'mono' }, a.status ?? '—'),
            ui.h('td', {}, `${a.duration_ms} ms`),
            ui.h('td', {}, a.error ?? ''),
            ui.h('td', {}, ui.h('code', { class: 'snippet' }, (a.body ?? '').slice(0, 300))),
          ),
        ),
      ),
    ),
  );
}

function deliveryLog(ui, deliveries) {
  const rows = [];
  for (const d of deliveries) {
    const last = d.attempt_log.at(-1);
    const details = attemptsRow(ui, d);
    details.hidden = true;
    rows.push(
      ui.h(
        'tr',
        {
          class: 'build',
          'data-delivery': d.id,
          'data-state': d.state,
          onclick: () => (details.hidden = !details.hidden),
        },
        ui.h(
          'td',
          {},
          ui.status(
            d.state === 'delivered'
              ? 'success'
              : d.state === 'failed' || d.state === 'dropped'
                ? 'failure'
                : 'running',
          ),
          ' ',
          d.state,
        ),
        ui.h('td', {}, d.type),
        ui.h(
          'td',
          {},
          d.build_id
            ? ui.h(
                'a',
                { href: `#/builds/${d.build_id}`, class: 'mono' },
                `${d.pipeline} ${d.build_id.slice(-6)}`,
              )
            : d.id.startsWith('msg_test_')
              ? 'test event'
              : '',
        ),
        ui.h('td', {}, d.attempts),
        ui.h('td', { class: 'mono' }, last ? `${last.status ?? ''} ${last.error ?? ''}` : ''),
        ui.h('td', {}, last ? `${last.duration_ms} ms` : ''),
      ),
      details,
    );
  }
  return ui.h(
    'table',
    { 'data-testid': 'delivery-log' },
    ui.h(
      'tr',
      {},
      ...['State', 'Event', 'Build', 'Attempts', 'Last answer', 'Latency'].map((t) => ui.h('th', {}, t)),
    ),
    ...rows,
  );
}

/** `#/endpoints/<id>`: one endpoint, its actions, and its chart and delivery log (refreshed every 3 s). */
export async function endpointPage(ui, id) {
  clearTimeout(timer);
  const e = await ui.api(`/api/endpoints/${id}`);
  if (!ui.still(`#/endpoints/${id}`)) return;
  const mine = e.source === 'api';
  const slot = ui.h('div', { 'data-testid': 'secret-slot' });
  if (fresh?.id === id) {
    slot.append(secretPanel(ui, fresh.secret, 'The endpoint’s signing secret.'));
    fresh = null;
  }
  const formSlot = ui.h('div', {});
  const statsSection = ui.h('div', {});
  const logSection = ui.h('div', {});
  const filters = {};
  const act = (label, testid, fn, cls) =>
    ui.h(
      'button',
      {
        'data-testid': testid,
        class: cls,
        onclick: async () => {
          try {
            await fn();
          } catch (err) {
            formSlot.replaceChildren(ui.h('p', { class: 'problems' }, err.message));
          }
        },
      },
      label,
    );
  // Re-reads the endpoint (state, actions) but keeps a secret panel that is showing.
  const refresh = async () => {
    const kept = [...slot.childNodes];
    await endpointPage(ui, id);
    document.querySelector('[data-testid="secret-slot"]')?.replaceChildren(...kept);
  };
  const soon = () => setTimeout(() => void showLog(true), 600);
  const actions = mine
    ? [
        act('Edit', 'edit', () =>
          formSlot.replaceChildren(
            endpointForm(ui, e, async (body) => {
              await send(ui, 'PATCH', `/api/endpoints/${id}`, body);
              await refresh();
            }),
          ),
        ),
        act('Rotate secret', 'rotate', async () => {
          const overlap = prompt('Keep signing with the old secret too for (e.g. 24h, 1h, 0):', '24h');
          if (overlap === null) return;
          const r = await send(ui, 'POST', `/api/endpoints/${id}/rotate-secret`, { overlap });
          slot.replaceChildren(
            secretPanel(
              ui,
              r.secret,
              `The new secret; the old one also signs until ${new Date(r.previous_secret_valid_until).toLocaleString()}.`,
            ),
          );
          await refresh();
        }),
        e.state === 'active'
          ? act('Pause', 'pause', async () => {
              await send(ui, 'POST', `/api/endpoints/${id}/pause`);
              await refresh();
            })
          : act(e.state === 'disabled' ? 'Enable' : 'Resume', 'resume', async () => {
              await send(ui, 'POST', `/api/endpoints/${id}/resume`);
              await refresh();
            }),
        act('Send test event', 'test', async () => {
          await send(ui, 'POST', `/api/endpoints/${id}/test`, { type: 'build.completed' });
          soon();
        }),
        act('Redeliver failed (24 h)', 'redeliver', async () => {
          const r = await send(ui, 'POST', `/api/endpoints/${id}/redeliver`, { since: '24h' });
          formSlot.replaceChildren(
            ui.h('p', { class: 'muted' }, `${r.redelivering} message(s) queued again.`),
          );
          soon();
        }),
        act(
          'Delete',
          'delete',
          async () => {
            if (!confirm(`Delete the endpoint ${e.url}? Messages still queued for it are not sent.`)) return;
            await send(ui, 'DELETE', `/api/endpoints/${id}`);
            location.hash = '#/endpoints';
          },
          'danger',
        ),
      ]
    : e.state === 'disabled'
      ? [
          act('Enable', 'resume', async () => {
            await send(ui, 'POST', `/api/endpoints/${id}/enable`);
            await refresh();
          }),
        ]
      : [];
  const filter = (name, options) =>
    ui.h(
      'select',
      {
        'data-testid': `filter-${name}`,
        onchange: (ev) => {
          if (ev.target.value) filters[name] = ev.target.value;
          else delete filters[name];
          void showLog(false);
        },
      },
      ui.h('option', { value: '' }, `any ${name}`),
      ...options.map((o) => ui.h('option', { value: o }, o)),
    );
  let shown = '';
  // Draws the stats, chart and log; a periodic refresh redraws only when something changed, so an
  // expanded row stays open while nothing happens.
  const showLog = async (periodic) => {
    clearTimeout(timer);
    const q = new URLSearchParams({ limit: '50', ...filters });
    const [log, stats] = await Promise.all([
      ui.api(`/api/endpoints/${id}/deliveries?${q}`),
      ui.api(`/api/endpoints/${id}/stats`),
    ]);
    // The first render is into a page not yet shown; later refreshes stop once it is gone.
    if (!ui.still(`#/endpoints/${id}`) || (periodic && !logSection.isConnected)) return;
    const text = JSON.stringify([log, stats.stats]);
    if (!periodic || text !== shown) {
      shown = text;
      const s = stats.stats;
      statsSection.replaceChildren(
        ui.h(
          'p',
          { 'data-testid': 'stats' },
          `Success rate ${pct(s.success_rate_24h)} of ${s.attempts_24h} attempts · delivered ${s.delivered}, failed ${s.failed} · last success ${ui.ago(s.last_success_at) || 'never'}`,
          s.failing_since ? ` · failing since ${ui.ago(s.failing_since)}` : '',
          s.circuit_open_until
            ? ` · circuit open: messages kept, next try ${new Date(s.circuit_open_until).toLocaleTimeString()}`
            : '',
        ),
        chart(ui, stats.hours),
      );
      logSection.replaceChildren(
        log.deliveries.length === 0
          ? ui.h('p', { class: 'muted', 'data-testid': 'no-deliveries' }, 'No deliveries yet.')
          : deliveryLog(ui, log.deliveries),
      );
    }
    timer = setTimeout(() => void showLog(true).catch(() => {}), 3000);
  };
  ui.main.replaceChildren(
    ...[
      ui.h('p', {}, ui.h('a', { href: '#/endpoints' }, '← Endpoints')),
      ui.h(
        'h2',
        {},
        stateBadge(ui, e),
        ' ',
        ui.h('span', { class: 'mono', 'data-testid': 'endpoint-url' }, e.url),
      ),
      e.state !== 'active' && e.state_reason
        ? ui.h(
            'p',
            { class: e.state === 'disabled' ? 'problems' : 'muted', 'data-testid': 'state-reason' },
            e.state_reason,
          )
        : null,
      ui.h(
        'p',
        { class: 'muted' },
        [
          e.description,
          mine
            ? `id ${e.id}`
            : e.source === 'pipeline'
              ? `from pipeline ${e.pipeline}`
              : 'from PUSHCI_NOTIFY_URLS',
          `events: ${e.events.join(', ')}`,
          e.pipelines.length ? `pipelines: ${e.pipelines.join(', ')}` : null,
          e.branches.length ? `branches: ${e.branches.join(', ')}` : null,
          mine ? `while paused: ${e.on_pause}` : null,
          e.previous_secret_valid_until
            ? `old secret signs too until ${ui.ago(e.previous_secret_valid_until)}`
            : null,
        ]
          .filter(Boolean)
          .join(' · '),
      ),
      slot,
      ui.h('div', { class: 'actions' }, ...actions),
      formSlot,
      ui.h('h3', {}, 'Last 24 hours'),
      statsSection,
      ui.h('h3', {}, 'Delivery log'),
      ui.h('div', { class: 'filters' }, filter('type', EVENTS), ' ', filter('state', STATES)),
      logSection,
    ].filter(Boolean),
  );
  await showLog(false);
  return { kind: 'endpoint', id };
}

/** Stops refreshing an endpoint's log (the user left the page). */
export function leaveEndpoint() {
  clearTimeout(timer);
}

/** Marks the Endpoints link when an endpoint is disabled (one request per page change). */
export async function markDisabled(ui, link) {
  const { endpoints } = await ui.api('/api/endpoints').catch(() => ({ endpoints: [] }));
  const n = endpoints.filter((e) => e.state === 'disabled').length;
  link.querySelector('.badge')?.remove();
  if (n > 0)
    link.append(
      ui.h('span', { class: 'badge', 'data-testid': 'disabled-count', title: `${n} disabled` }, String(n)),
    );
}
