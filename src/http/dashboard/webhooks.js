// The "why" view: every received webhook, and for each pipeline whether it took the push and why.
import { api, h, status, when } from './ui.js';

const RESULT = {
  builds: ['success', 'started builds'],
  no_match: ['skipped', 'matched no pipeline'],
  ignored: ['skipped', 'ignored event'],
  ping: ['success', 'ping'],
  duplicate: ['skipped', 'duplicate'],
  deleted: ['skipped', 'ref deleted'],
  refused: ['failure', 'refused'],
};

const badge = (r) => {
  const [s, text] = RESULT[r.result] ?? ['skipped', r.result];
  return h('span', { class: `status ${s}`, 'data-result': r.result }, text);
};

function pipelinesTable(r) {
  if (r.pipelines.length === 0)
    return h(
      'p',
      { class: 'muted' },
      r.result === 'refused'
        ? 'Refused before its payload was read: no pipeline was consulted, and nothing of the payload was kept.'
        : 'No pipeline was consulted.',
    );
  // The ones that matched first, then those of the same repository, then the rest.
  const order = (p) =>
    p.matched ? 0 : /^repository /.test(p.reason) || /^the pipeline is for/.test(p.reason) ? 2 : 1;
  return h(
    'table',
    { class: 'why-pipelines', 'data-testid': 'why-pipelines' },
    h('tr', {}, ...['Pipeline', 'Matched', 'Why', 'Build'].map((t) => h('th', {}, t))),
    ...[...r.pipelines]
      .sort((a, b) => order(a) - order(b))
      .map((p) =>
        h(
          'tr',
          { 'data-pipeline': p.pipeline, 'data-matched': String(p.matched) },
          h('td', {}, h('a', { href: `#/pipelines/${encodeURIComponent(p.pipeline)}` }, p.pipeline)),
          h('td', {}, p.matched ? '✓ yes' : '✗ no'),
          h('td', { class: 'wrap' }, p.reason),
          h(
            'td',
            {},
            p.build_id
              ? h('a', { href: `#/builds/${p.build_id}` }, p.number ? `#${p.number}` : p.build_id)
              : '',
          ),
        ),
      ),
  );
}

function details(r) {
  return [
    h(
      'dl',
      { class: 'why' },
      h('dt', {}, 'Received'),
      h('dd', {}, when(r.at)),
      h('dt', {}, 'Forge / event'),
      h('dd', { class: 'mono' }, `${r.forge} ${r.event ?? '(no event header)'}`),
      h('dt', {}, 'Delivery'),
      h('dd', { class: 'mono' }, r.delivery_id ?? '—'),
      h('dt', {}, 'Answer'),
      h('dd', {}, h('span', { class: 'mono' }, String(r.status)), ' ', badge(r), ' ', r.reason),
      r.repository
        ? [h('dt', {}, 'Repository'), h('dd', { class: 'mono' }, `${r.repository} ${r.refs.join(', ')}`)]
        : null,
    ),
    pipelinesTable(r),
  ];
}

/** `#/webhooks?before=`: the received webhooks, newest first. */
export async function webhooksPage(main, query) {
  const before = query.get('before');
  const page = await api(`/api/webhooks?limit=50${before ? `&before=${encodeURIComponent(before)}` : ''}`);
  main.replaceChildren(
    h('h2', {}, 'Received webhooks'),
    h(
      'p',
      { class: 'muted' },
      'Why did (or didn’t) a push build? Every webhook a forge sent, what pushci answered, and for each pipeline the rule that decided.',
    ),
    page.webhooks.length === 0
      ? h('p', { class: 'muted', 'data-testid': 'empty' }, 'No webhook received yet.')
      : h(
          'table',
          { 'data-testid': 'webhooks' },
          h(
            'tr',
            {},
            ...['When', 'Forge', 'Event', 'Result', 'Repository', 'Why'].map((t) => h('th', {}, t)),
          ),
          ...page.webhooks.map((r) =>
            h(
              'tr',
              { class: 'build', 'data-webhook': r.id, onclick: () => (location.hash = `#/webhooks/${r.id}`) },
              h('td', {}, when(r.at)),
              h('td', {}, r.forge),
              h('td', { class: 'mono' }, r.event ?? ''),
              h('td', {}, badge(r)),
              h('td', { class: 'mono' }, r.repository ? `${r.repository} ${r.refs.join(', ')}` : ''),
              h('td', { class: 'wrap' }, r.reason),
            ),
          ),
        ),
    h(
      'p',
      { class: 'pager' },
      before ? h('a', { href: '#/webhooks' }, '« Newest') : null,
      page.next
        ? h(
            'a',
            { href: `#/webhooks?before=${encodeURIComponent(page.next)}`, 'data-testid': 'older' },
            'Older »',
          )
        : null,
    ),
  );
  return { kind: 'webhooks', onEvent: before ? undefined : 'reload' };
}

/** `#/webhooks/<id>`: one received webhook and why. */
export async function webhookPage(main, id) {
  const r = await api(`/api/webhooks/${encodeURIComponent(id)}`);
  main.replaceChildren(
    h('h2', {}, 'Webhook ', h('span', { class: 'mono small' }, r.id)),
    h('div', { 'data-testid': 'why' }, ...details(r)),
    h('p', {}, h('a', { href: '#/webhooks' }, '« All received webhooks')),
  );
  return { kind: 'webhook' };
}
