// The lists: builds (filtered, paged), pipelines, and one pipeline's page (stats, badge, manual trigger).
import { api, duration, flash, h, post, status, unsandboxed, when } from './ui.js';

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
      h('td', { class: 'wrap' }, b.message?.split('\n')[0] ?? ''),
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

const hashWith = (query) => {
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
        ...values.map((v) => h('option', { value: v, selected: v === wanted[name] }, v)),
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
    select('pipeline', 'Pipeline', [
      ...new Set([...pipelines.pipelines.map((p) => p.name), ...(wanted.pipeline ? [wanted.pipeline] : [])]),
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

export async function pipelinesPage(main) {
  const p = await api('/api/pipelines');
  const broken = (p.files ?? []).filter((f) => f.state !== 'ok');
  const servedAs = (f) =>
    f.state === 'last-good'
      ? [`broken: its last good version (${f.pipeline}, loaded `, when(f.since), ') stays in force']
      : 'broken: no version of it is in force until it is fixed';
  main.replaceChildren(
    h('h2', {}, 'Pipelines'),
    broken.length || p.problems.length
      ? h(
          'div',
          { 'data-testid': 'problems' },
          h('h3', {}, 'Problems (other files are not affected)'),
          ...broken.map((f) =>
            h(
              'div',
              { class: 'broken-file', 'data-file': f.name },
              h('p', {}, h('span', { class: 'mono' }, f.file), ' — ', servedAs(f)),
              h('ul', { class: 'problems' }, ...f.problems.map((d) => h('li', {}, d.text))),
            ),
          ),
          broken.length ? '' : h('ul', { class: 'problems' }, ...p.problems.map((d) => h('li', {}, d.text))),
        )
      : h('p', { class: 'muted' }, 'All pipeline files are valid (loaded ', when(p.loaded_at), ').'),
    h(
      'table',
      { 'data-testid': 'pipelines' },
      h('tr', {}, ...['Name', 'Repository', 'Jobs', 'File', 'State', ''].map((t) => h('th', {}, t))),
      ...p.pipelines.map((x) =>
        h(
          'tr',
          { 'data-pipeline': x.name },
          h('td', {}, h('a', { href: `#/pipelines/${encodeURIComponent(x.name)}` }, x.name)),
          h('td', { class: 'mono' }, x.repository),
          h('td', {}, x.jobs.map((j) => j.name).join(', ')),
          h('td', { class: 'mono muted' }, x.file),
          h(
            'td',
            { class: x.state === 'last-good' ? 'problems' : 'muted' },
            x.state === 'last-good' ? 'last good version (file broken)' : 'ok',
          ),
          h('td', {}, h('a', { href: hashWith({ pipeline: x.name }) }, 'builds')),
        ),
      ),
    ),
  );
  return { kind: 'pipelines' };
}

/** Median of numbers (null for none). */
export const median = (xs) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** `#/pipelines/<name>`: recent builds, success rate, median duration, the badge, and a manual trigger. */
export async function pipelinePage(main, name) {
  const enc = encodeURIComponent(name);
  const [all, recent] = await Promise.all([
    api('/api/pipelines'),
    api(`/api/builds?pipeline=${enc}&limit=100`),
  ]);
  const p = all.pipelines.find((x) => x.name === name);
  if (!p) {
    main.replaceChildren(h('h2', {}, name), h('p', { class: 'problem' }, `There is no pipeline ${name}.`));
    return { kind: 'pipeline' };
  }
  const finished = recent.builds.filter((b) => ['success', 'failure', 'error'].includes(b.status));
  const rate = finished.length
    ? `${Math.round((100 * finished.filter((b) => b.status === 'success').length) / finished.length)}%`
    : '–';
  const med = median(finished.map((b) => b.duration_ms).filter((d) => d != null));
  const origin = location.origin;
  const badge = `${origin}/badge/${enc}.svg`;
  const snippet = `[![${name}](${badge})](${origin}/#/pipelines/${enc})`;
  const globRepo = /[*?[{]/.test(p.repository);
  const inputs = Array.isArray(p.inputs) ? p.inputs : [];
  const form = h(
    'form',
    {
      class: 'trigger',
      'data-testid': 'trigger',
      onsubmit: async (e) => {
        e.preventDefault();
        const f = e.currentTarget;
        const ref = f.elements.ref.value.trim();
        const body = { [f.elements.kind.value]: ref };
        if (f.elements.sha.value.trim()) body.sha = f.elements.sha.value.trim();
        if (globRepo) body.repository = f.elements.repository.value.trim();
        if (inputs.length)
          body.inputs = Object.fromEntries(
            inputs.map((i) => {
              const el = f.elements[`input-${i.name}`];
              return [i.name, i.type === 'boolean' ? el.checked : el.value];
            }),
          );
        f.elements.go.disabled = true;
        try {
          const r = await post(`/api/pipelines/${enc}/trigger`, body);
          location.hash = `#/builds/${r.builds[0].id}`;
        } catch (err) {
          flash(`Trigger: ${err.message}`);
          f.elements.go.disabled = false;
        }
      },
    },
    h(
      'select',
      { name: 'kind', 'aria-label': 'branch or tag' },
      h('option', { value: 'branch' }, 'branch'),
      h('option', { value: 'tag' }, 'tag'),
    ),
    h('input', {
      name: 'ref',
      required: true,
      value: 'main',
      size: 16,
      'aria-label': 'ref',
      'data-testid': 'trigger-ref',
    }),
    h('input', { name: 'sha', placeholder: 'commit (default: its head)', size: 28, 'aria-label': 'commit' }),
    globRepo
      ? h('input', {
          name: 'repository',
          required: true,
          placeholder: 'owner/name',
          'aria-label': 'repository',
        })
      : null,
    ...inputs.map((i) =>
      h(
        'label',
        { title: i.description ?? '' },
        `${i.name} `,
        i.type === 'choice'
          ? h(
              'select',
              { name: `input-${i.name}`, 'data-testid': `input-${i.name}` },
              ...(i.options ?? []).map((o) => h('option', { value: o, selected: o === i.default }, o)),
            )
          : i.type === 'boolean'
            ? h('input', {
                type: 'checkbox',
                name: `input-${i.name}`,
                checked: i.default === 'true',
                'data-testid': `input-${i.name}`,
              })
            : h('input', {
                name: `input-${i.name}`,
                type: i.type === 'number' ? 'number' : 'text',
                step: i.type === 'number' ? 'any' : undefined,
                value: i.default ?? '',
                required: i.required ?? false,
                'data-testid': `input-${i.name}`,
              }),
      ),
    ),
    h('button', { name: 'go', type: 'submit', 'data-testid': 'trigger-run' }, 'Run pipeline'),
  );
  main.replaceChildren(
    h('h2', {}, 'Pipeline ', h('span', { 'data-testid': 'pipeline-name' }, name)),
    h('p', { class: 'mono muted' }, `${p.repository} · ${p.file}`),
    h(
      'p',
      { class: 'muted', 'data-testid': 'pipeline-events' },
      `Builds on: ${[...(p.events ?? []), 'manual'].join(', ')}`,
      ...(p.schedules ?? []).map((s) =>
        h(
          'span',
          { class: 'mono', 'data-testid': 'schedule' },
          ` · ${s.cron} UTC on ${s.branch ?? 'the default branch'}${s.always ? ' (always)' : ''}`,
        ),
      ),
    ),
    h('div', { id: 'flash' }),
    h(
      'div',
      { class: 'stats', 'data-testid': 'stats' },
      h(
        'div',
        {},
        h('b', { 'data-testid': 'success-rate' }, rate),
        h('span', { class: 'muted' }, ` success of the last ${finished.length} finished`),
      ),
      h(
        'div',
        {},
        h('b', { 'data-testid': 'median-duration' }, med == null ? '–' : duration(med)),
        h('span', { class: 'muted' }, ' median duration'),
      ),
      h('div', {}, h('img', { src: `/badge/${enc}.svg`, alt: `${name} status` })),
    ),
    h('h3', {}, 'Badge'),
    h('input', {
      class: 'mono snippet',
      readonly: true,
      value: snippet,
      'data-testid': 'badge-snippet',
      onfocus: (e) => e.target.select(),
    }),
    h('h3', {}, 'Run it by hand'),
    form,
    h('h3', {}, 'Recent builds ', h('a', { href: hashWith({ pipeline: name }), class: 'small' }, 'all')),
    recent.builds.length
      ? buildTable(recent.builds.slice(0, 20))
      : h('p', { class: 'muted' }, 'No builds yet.'),
  );
  return { kind: 'pipeline' };
}
