// The Endpoints page: every endpoint (registered, pipeline `notify`, PUSHCI_NOTIFY_URLS), and registering
// one (its secret then shown once on its own page); the menu's count of disabled endpoints.
// Like every endpoint module, it takes the page's helpers (h, api, status, ...) from app.js as `ui`, so
// it shares its login and error handling.
import { endpointForm } from './endpoint-form.js';
import { pct, send, stateBadge } from './endpoint-ui.js';
import { keepSecret } from './secret-panel.js';

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
        keepSecret(created.id, created.secret);
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
                { class: 'mono url' },
                ui.cut(e.url),
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
