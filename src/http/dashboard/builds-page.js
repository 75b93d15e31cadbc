// The builds list: filtered by pipeline, branch, event and status, newest first, paged.
import { api, duration, h, headline, status, unsandboxed, when } from './ui.js';

const STATUSES = [
  'pending-approval',
  'queued',
  'running',
  'success',
  'failure',
  'canceled',
  'error',
  'skipped',
];
const EVENTS = ['push', 'tag', 'pull_request', 'manual', 'rerun', 'schedule'];
const FILTERS = ['pipeline', 'branch', 'event', 'status'];

const refOf = (b) =>
  b.pull_request
    ? `${b.pull_request.source_branch} → ${b.pull_request.target_branch}`
    : (b.branch ?? (b.tag ? `tag ${b.tag}` : b.ref));

function buildRows(builds) {
  return builds.map((b) =>
    h(
      'tr',
      { class: 'build', 'data-build': b.id, onclick: () => (location.hash = `#/builds/${b.id}`) },
      h('td', {}, status(b.status)),
      h('td', {}, h('a', { href: `#/builds/${b.id}` }, `${b.pipeline} #${b.number}`), unsandboxed(b)),
      h('td', { class: 'mono' }, refOf(b)),
      h('td', { class: 'mono' }, b.sha.slice(0, 7)),
      h('td', { class: 'wrap' }, headline(b)),
      h(
        'td',
        { class: 'hide-narrow' },
        b.pull_request
          ? `${b.event} #${b.pull_request.number}${b.pull_request.fork ? ' (fork)' : ''}`
          : b.event,
      ),
      h('td', {}, duration(b.duration_ms)),
      h('td', { class: 'muted' }, when(b.created_at)),
    ),
  );
}

export function buildTable(builds) {
  return h(
    'table',
    { 'data-testid': 'builds' },
    h(
      'tr',
      {},
      ...['Status', 'Build', 'Ref', 'Commit', 'Message', 'Event', 'Took', 'Created'].map((t, i) =>
        h('th', { class: i === 5 ? 'hide-narrow' : undefined }, t),
      ),
    ),
    ...buildRows(builds),
  );
}

export const hashWith = (query) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `#/?${s}` : '#/';
};

/** `#/?pipeline=&branch=&event=&status=&cursor=`: the builds, newest first, 50 a page. */
export async function buildsPage(main, query) {
  const wanted = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) ?? '']));
  const cursor = query.get('cursor');
  const limit = /^\d{1,3}$/.test(query.get('limit') ?? '') ? query.get('limit') : '50';
  const q = new URLSearchParams({ limit });
  for (const [k, v] of Object.entries(wanted)) if (v) q.set(k, v);
  if (cursor) q.set('cursor', cursor);
  const [{ builds, next }, pipelines] = await Promise.all([
    api(`/api/builds?${q}`),
    api('/api/pipelines').catch(() => ({ pipelines: [] })),
  ]);
  const select = (name, label, values) =>
    h(
      'label',
      {},
      `${label} `,
      h(
        'select',
        { name, 'data-testid': `filter-${name}` },
        h('option', { value: '' }, 'any'),
        ...values.map((v) => {
          const [value, text] = Array.isArray(v) ? v : [v, v];
          return h('option', { value, selected: value === wanted[name] }, text);
        }),
      ),
    );
  const form = h(
    'form',
    {
      class: 'filters',
      'data-testid': 'filters',
      onchange: (e) => apply(e.currentTarget),
      onsubmit: (e) => {
        e.preventDefault();
        apply(e.currentTarget);
      },
    },
    // Each pipeline with its file; a filter by a file (`pipelines/web.yml`, as `pushci builds --pipeline`
    // takes) shows that file, and one by a pipeline since removed shows its id.
    select('pipeline', 'Pipeline', [
      ...pipelines.pipelines.map((p) => [p.name, `${p.name} (${p.file})`]),
      ...(wanted.pipeline && !pipelines.pipelines.some((p) => p.name === wanted.pipeline)
        ? [wanted.pipeline]
        : []),
    ]),
    h(
      'label',
      {},
      'Branch ',
      h('input', {
        name: 'branch',
        value: wanted.branch,
        placeholder: 'any',
        size: 14,
        'data-testid': 'filter-branch',
      }),
    ),
    select('event', 'Event', EVENTS),
    select('status', 'Status', STATUSES),
    FILTERS.some((k) => wanted[k]) ? h('a', { href: '#/', 'data-testid': 'clear-filters' }, 'Clear') : null,
  );
  function apply(f) {
    location.hash = hashWith(Object.fromEntries(FILTERS.map((k) => [k, f.elements[k].value.trim()])));
  }
  const filtered = FILTERS.some((k) => wanted[k]);
  main.replaceChildren(
    h('h2', {}, 'Builds'),
    form,
    builds.length === 0
      ? h(
          'p',
          { class: 'muted', 'data-testid': 'empty' },
          filtered
            ? 'No build matches these filters.'
            : 'No builds yet: push to a repository whose webhook points here.',
        )
      : buildTable(builds),
    h(
      'p',
      { class: 'pager' },
      cursor ? h('a', { href: hashWith(wanted), 'data-testid': 'newest' }, '« Newest') : null,
      next
        ? h('a', { href: hashWith({ ...wanted, cursor: next }), 'data-testid': 'older' }, 'Older »')
        : null,
    ),
  );
  return {
    kind: 'builds',
    // Live: only the first page changes when builds come and go.
    onEvent: cursor ? undefined : 'reload',
  };
}
