// One endpoint's page: editing, rotating its secret, pausing, deleting, and its chart and delivery log.
// Like every endpoint module, it takes the page's helpers (h, api, status, ...) from app.js as `ui`, so
// it shares its login and error handling.
import { EVENTS, endpointForm } from './endpoint-form.js';
import { STATES, chart, deliveryLog } from './endpoint-log.js';
import { pct, send, stateBadge } from './endpoint-ui.js';
import { secretPanel, takeSecret } from './secret-panel.js';

// The timer that refreshes the open endpoint's delivery log.
let timer = null;

/** `#/endpoints/<id>`: one endpoint, its actions, and its chart and delivery log (refreshed every 3 s). */
export async function endpointPage(ui, id) {
  clearTimeout(timer);
  const e = await ui.api(`/api/endpoints/${id}`);
  if (!ui.still(`#/endpoints/${id}`)) return;
  const mine = e.source === 'api';
  const slot = ui.h('div', { 'data-testid': 'secret-slot' });
  const secret = takeSecret(id);
  if (secret) slot.append(secretPanel(ui, secret, 'The endpoint’s signing secret.'));
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
