// One pipeline's page: recent builds, success rate, median duration, the badge and a manual trigger.
import { buildTable, hashWith } from './builds-page.js';
import { AuthNeeded, api, duration, flash, h, post, stillOn, when } from './ui.js';

/** A schedule, and what its latest tick did: the build it started, or why it started none. */
function scheduleLine(s) {
  const what = h(
    'span',
    { class: 'mono' },
    `${s.cron} UTC on ${s.branch ?? 'the default branch'}${s.always ? ' (always)' : ''}`,
  );
  const t = s.last_tick;
  if (!t) return [what, h('span', { class: 'muted' }, ' · has not fired yet')];
  return [
    what,
    ' · last tick ',
    when(t.at),
    ': ',
    t.built
      ? h('a', { href: `#/builds/${t.built}`, 'data-testid': 'tick-built' }, `started a build of ${t.branch}`)
      : h(
          'span',
          { class: t.error ? 'problem' : 'muted', 'data-testid': 'tick-skipped' },
          t.error ? `could not fire: ${t.error}` : `nothing built: ${t.skipped}`,
        ),
  ];
}

/** Median of numbers (null for none). */
export const median = (xs) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * `#/pipelines/<name>`: recent builds, success rate, median duration, the badge, and a manual trigger.
 * `<name>` may be the pipeline's file too (as `pushci trigger` takes it); the address then shows its id.
 */
export async function pipelinePage(main, wanted) {
  const at = location.hash;
  let p;
  try {
    p = await api(`/api/pipelines/${encodeURIComponent(wanted)}`);
  } catch (err) {
    if (err instanceof AuthNeeded) throw err;
    main.replaceChildren(
      h('h2', {}, wanted),
      h('p', { class: 'problem', 'data-testid': 'no-pipeline' }, err.message),
      h('p', {}, h('a', { href: '#/pipelines' }, 'All pipelines')),
    );
    return { kind: 'pipeline' };
  }
  const name = p.name;
  const enc = encodeURIComponent(name);
  if (name !== wanted && stillOn(at)) history.replaceState(null, '', `#/pipelines/${enc}`);
  const recent = await api(`/api/builds?pipeline=${enc}&limit=100`);
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
        const body = { [f.elements.kind.value]: ref, by: 'dashboard' };
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
    ),
    (p.schedules ?? []).length
      ? h(
          'ul',
          { class: 'schedules', 'data-testid': 'schedules' },
          ...p.schedules.map((s) => h('li', { 'data-testid': 'schedule' }, ...scheduleLine(s))),
        )
      : null,
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
