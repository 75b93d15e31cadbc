// The pushci dashboard: plain modules, no build step. Data comes from /api; live updates from /api/events.
import { endpointPage, endpointsPage, leaveEndpoint, markDisabled } from './endpoints.js';
const main = document.getElementById('main');
const live = document.getElementById('live');
const h = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
};
const status = (s) => h('span', { class: `status ${s}`, 'data-status': s }, s);
const duration = (ms) =>
  ms == null
    ? ''
    : ms < 1000
      ? `${ms} ms`
      : ms < 60000
        ? `${(ms / 1000).toFixed(1)} s`
        : `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
const ago = (iso) => (iso ? new Date(iso).toLocaleString() : '');

class AuthNeeded extends Error {}
async function api(path, opts = {}) {
  // Writes go as JSON: the server refuses state changes a cross-site form could have sent.
  const write = opts.method && opts.method !== 'GET';
  const res = await fetch(path, {
    credentials: 'same-origin',
    ...opts,
    ...(write
      ? { headers: { 'content-type': 'application/json', ...opts.headers }, body: opts.body ?? '{}' }
      : {}),
  });
  if (res.status === 401) throw new AuthNeeded('token needed');
  if (res.status === 403) throw new Error((await res.json()).message);
  if (!res.ok) throw new Error(((await res.json().catch(() => null)) ?? {}).message ?? `${res.status}`);
  return res.json();
}

function showLogin(message) {
  main.replaceChildren(
    h('h2', {}, 'Log in'),
    h(
      'p',
      { class: 'muted' },
      message ??
        'Open the login link pushci serve printed at start, or enter the API token (PUSHCI_API_TOKEN, or the api-token file in the data dir).',
    ),
    h(
      'form',
      {
        class: 'login',
        onsubmit: async (e) => {
          e.preventDefault();
          const token = e.target.elements.token.value;
          const res = await fetch('/login', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ token }),
          });
          if (res.ok) route();
          else showLogin('That token is not right.');
        },
      },
      h('input', {
        name: 'token',
        type: 'password',
        placeholder: 'API token',
        'data-testid': 'token',
      }),
      h('button', { type: 'submit' }, 'Log in'),
    ),
  );
}

// ANSI SGR colours to spans; everything else of an escape sequence is dropped.
const ANSI = {
  30: '#6e7681',
  31: '#ff7b72',
  32: '#3fb950',
  33: '#d29922',
  34: '#58a6ff',
  35: '#bc8cff',
  36: '#39c5cf',
  37: '#b1bac4',
  90: '#6e7681',
  91: '#ffa198',
  92: '#56d364',
  93: '#e3b341',
  94: '#79c0ff',
  95: '#d2a8ff',
  96: '#56d4dd',
  97: '#ffffff',
};
function ansiLine(text) {
  const frag = document.createDocumentFragment();
  let color = null;
  let bold = false;
  const parts = text.split(/\x1b\[([0-9;]*)m/);
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      for (const code of part.split(';').map(Number)) {
        if (code === 0 || Number.isNaN(code)) [color, bold] = [null, false];
        else if (code === 1) bold = true;
        else if (code === 22) bold = false;
        else if (code === 39) color = null;
        else if (ANSI[code]) color = ANSI[code];
      }
      return;
    }
    const clean = part.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    if (!clean) return;
    if (!color && !bold) frag.append(clean);
    else
      frag.append(
        h(
          'span',
          { style: color ? `color:${color}` : undefined, class: bold ? 'ansi-bold' : undefined },
          clean,
        ),
      );
  });
  return frag;
}

let view = null; // what the live events refresh
// A build whose steps ran without the sandbox says so wherever it is shown.
const unsandboxed = (b) =>
  b.unsandboxed
    ? h(
        'span',
        {
          class: 'unsandboxed',
          'data-testid': 'unsandboxed',
          title: 'Its steps ran on the host runner, without the sandbox',
        },
        'unsandboxed',
      )
    : null;

// Pages render after awaiting the API; a render for a page the user already left must not land.
const still = (hash) => (location.hash || '#/') === hash || (hash === '#/' && /^#?\/?$/.test(location.hash));
async function buildsPage() {
  const { builds } = await api('/api/builds?limit=50');
  if (!still('#/')) return;
  const rows = builds.map((b) =>
    h(
      'tr',
      { class: 'build', 'data-build': b.id, onclick: () => (location.hash = `#/builds/${b.id}`) },
      h('td', {}, status(b.status)),
      h('td', {}, `${b.pipeline} #${b.number}`, unsandboxed(b)),
      h('td', { class: 'mono' }, b.branch ?? (b.tag ? `tag ${b.tag}` : b.ref)),
      h('td', { class: 'mono' }, b.sha.slice(0, 7)),
      h('td', {}, b.message?.split('\n')[0] ?? ''),
      h('td', {}, duration(b.duration_ms)),
      h('td', { class: 'muted' }, ago(b.created_at)),
    ),
  );
  main.replaceChildren(
    h('h2', {}, 'Builds'),
    builds.length === 0
      ? h(
          'p',
          { class: 'muted', 'data-testid': 'empty' },
          'No builds yet: push to a repository whose webhook points here.',
        )
      : h(
          'table',
          { 'data-testid': 'builds' },
          h(
            'tr',
            {},
            ...['Status', 'Pipeline', 'Ref', 'Commit', 'Message', 'Took', 'Created'].map((t) =>
              h('th', {}, t),
            ),
          ),
          ...rows,
        ),
  );
  view = { kind: 'builds' };
}

let follow = null; // AbortController of the followed log
async function followLog(build, job, pre) {
  follow?.abort();
  follow = new AbortController();
  pre.replaceChildren();
  const res = await fetch(`/api/builds/${build}/jobs/${job}/log?follow=1`, {
    signal: follow.signal,
    credentials: 'same-origin',
  });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let rest = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += decoder.decode(value, { stream: true });
      const lines = rest.split('\n');
      rest = lines.pop();
      const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
      for (const line of lines) {
        const mark = line.slice(25, 26);
        pre.append(
          h(
            'div',
            { class: mark === '#' ? 'sys' : mark === '!' ? 'err' : undefined, 'data-line': '' },
            h('span', { class: 'muted' }, line.slice(11, 19), ' '),
            ansiLine(line.slice(27)),
          ),
        );
      }
      if (stick) pre.scrollTop = pre.scrollHeight;
    }
  } catch (err) {
    if (err.name !== 'AbortError') throw err;
  }
}

async function buildPage(id, selected) {
  const b = await api(`/api/builds/${id}`);
  const depth = new Map();
  const depthOf = (name) => {
    if (depth.has(name)) return depth.get(name);
    const job = b.jobs.find((j) => j.name === name);
    const d = job.needs.length === 0 ? 0 : 1 + Math.max(...job.needs.map(depthOf));
    depth.set(name, d);
    return d;
  };
  b.jobs.forEach((j) => depthOf(j.name));
  const columns = [];
  for (const j of b.jobs) (columns[depth.get(j.name)] ??= []).push(j);
  const job = selected ?? view?.job ?? b.jobs[0]?.name;
  const pre = h('pre', { class: 'log', 'data-testid': 'log' });
  const actions = [];
  if (b.status === 'queued' || b.status === 'running')
    actions.push(
      h(
        'button',
        {
          class: 'danger',
          'data-testid': 'cancel',
          onclick: () => api(`/api/builds/${id}/cancel`, { method: 'POST' }).then(() => buildPage(id)),
        },
        'Cancel',
      ),
    );
  else
    actions.push(
      h(
        'button',
        {
          'data-testid': 'rerun',
          onclick: async () => {
            const r = await api(`/api/builds/${id}/rerun`, { method: 'POST' });
            location.hash = `#/builds/${r.builds[0].id}`;
          },
        },
        'Re-run',
      ),
    );
  const deliveries = await api(`/api/deliveries?build=${id}`).catch(() => ({ deliveries: [] }));
  if (!still(`#/builds/${id}`)) return;
  main.replaceChildren(
    h('h2', {}, status(b.status), ` ${b.pipeline} #${b.number}`, unsandboxed(b)),
    h(
      'p',
      {},
      h('span', { class: 'mono' }, `${b.repository} ${b.branch ?? b.tag ?? b.ref} ${b.sha.slice(0, 7)}`),
      ` — ${b.message?.split('\n')[0] ?? ''}`,
      b.reason ? h('span', { class: 'muted' }, ` (${b.reason})`) : null,
    ),
    h(
      'p',
      { class: 'muted' },
      `created ${ago(b.created_at)}`,
      b.duration_ms != null ? `, took ${duration(b.duration_ms)}` : '',
      b.superseded_by
        ? h('span', {}, ', superseded by ', h('a', { href: `#/builds/${b.superseded_by}` }, b.superseded_by))
        : null,
    ),
    h('div', {}, ...actions),
    h(
      'div',
      { class: 'graph', 'data-testid': 'graph' },
      ...columns.map((col) =>
        h(
          'div',
          { class: 'column' },
          ...col.map((j) =>
            h(
              'div',
              {
                class: `job ${j.status}${j.name === job ? ' selected' : ''}`,
                'data-job': j.name,
                onclick: () => buildPage(id, j.name),
              },
              h('div', {}, h('b', {}, j.name), ' ', status(j.status)),
              h(
                'div',
                { class: 'muted' },
                duration(j.duration_ms),
                j.attempt > 1 ? ` attempt ${j.attempt}` : '',
              ),
              j.needs.length ? h('div', { class: 'needs' }, `needs ${j.needs.join(', ')}`) : null,
            ),
          ),
        ),
      ),
    ),
    h('h3', {}, `Log of ${job}`),
    pre,
    h('h3', {}, 'Deliveries'),
    deliveries.deliveries.length === 0
      ? h('p', { class: 'muted' }, 'none')
      : deliveryTable(deliveries.deliveries),
  );
  view = { kind: 'build', id, job, status: b.status };
  if (job) void followLog(id, job, pre);
}

function deliveryTable(list) {
  return h(
    'table',
    { 'data-testid': 'deliveries' },
    h('tr', {}, ...['State', 'Event', 'Target', 'Attempts', 'Last answer'].map((t) => h('th', {}, t))),
    ...list.map((d) => {
      const last = d.attempt_log?.at(-1);
      return h(
        'tr',
        {},
        h(
          'td',
          {},
          status(d.state === 'delivered' ? 'success' : d.state === 'failed' ? 'failure' : 'running'),
          ' ',
          d.state,
        ),
        h('td', {}, d.type),
        h('td', { class: 'mono' }, d.target),
        h('td', {}, d.attempts),
        h(
          'td',
          { class: 'mono' },
          last ? `${last.status ?? ''} ${last.error ?? ''} ${last.duration_ms} ms` : '',
        ),
      );
    }),
  );
}

async function pipelinesPage() {
  const p = await api('/api/pipelines');
  if (!still('#/pipelines')) return;
  const broken = (p.files ?? []).filter((f) => f.state !== 'ok');
  const servedAs = (f) =>
    f.state === 'last-good'
      ? `broken: its last good version (${f.pipeline}, loaded ${ago(f.since)}) stays in force`
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
              h('p', {}, h('span', { class: 'mono' }, f.file), ` — ${servedAs(f)}`),
              h('ul', { class: 'problems' }, ...f.problems.map((d) => h('li', {}, d.text))),
            ),
          ),
          broken.length ? '' : h('ul', { class: 'problems' }, ...p.problems.map((d) => h('li', {}, d.text))),
        )
      : h('p', { class: 'muted' }, `All pipeline files are valid (loaded ${ago(p.loaded_at)}).`),
    h(
      'table',
      { 'data-testid': 'pipelines' },
      h('tr', {}, ...['Name', 'Repository', 'Jobs', 'File', 'State'].map((t) => h('th', {}, t))),
      ...p.pipelines.map((x) =>
        h(
          'tr',
          {},
          h('td', {}, h('a', { href: `#/?pipeline=${x.name}` }, x.name)),
          h('td', { class: 'mono' }, x.repository),
          h('td', {}, x.jobs.map((j) => j.name).join(', ')),
          h('td', { class: 'mono muted' }, x.file),
          h(
            'td',
            { class: x.state === 'last-good' ? 'problems' : 'muted' },
            x.state === 'last-good' ? 'last good version (file broken)' : 'ok',
          ),
        ),
      ),
    ),
  );
  view = { kind: 'pipelines' };
}

async function deliveriesPage() {
  const d = await api('/api/deliveries?recent=50');
  if (!still('#/deliveries')) return;
  main.replaceChildren(
    h('h2', {}, 'Recent deliveries'),
    d.deliveries.length ? deliveryTable(d.deliveries) : h('p', { class: 'muted' }, 'none yet'),
  );
  view = { kind: 'deliveries' };
}

async function route() {
  const [, page, id] = location.hash.replace(/^#\/?/, '/').split('/');
  for (const a of document.querySelectorAll('[data-nav]'))
    a.classList.toggle(
      'active',
      a.dataset.nav === (page || 'builds') || (page === 'builds' && a.dataset.nav === 'builds'),
    );
  try {
    if (page === 'builds' && id) await buildPage(id);
    else if (page === 'pipelines') await pipelinesPage();
    else if (page === 'deliveries') await deliveriesPage();
    else if (page === 'endpoints') {
      const ui = { h, api, status, main, still, ago };
      view = (await (id ? endpointPage(ui, id) : endpointsPage(ui))) ?? view;
    } else await buildsPage();
    void markDisabled({ h, api }, document.querySelector('[data-nav="endpoints"]'));
    connect();
  } catch (err) {
    if (err instanceof AuthNeeded) showLogin();
    else main.replaceChildren(h('p', { class: 'problems' }, String(err.message)));
  }
}

let events = null;
let pending = null;
function connect() {
  if (events) return;
  events = new EventSource('/api/events');
  events.onopen = () => live.classList.add('on');
  events.onerror = () => live.classList.remove('on');
  events.addEventListener('build', (e) => {
    const ev = JSON.parse(e.data);
    // Debounced: a burst of events redraws once.
    clearTimeout(pending);
    pending = setTimeout(() => {
      if (view?.kind === 'builds') void buildsPage();
      else if (view?.kind === 'build' && view.id === ev.id && ev.status !== view.status)
        void buildPage(view.id, view.job);
    }, 250);
  });
}

window.addEventListener('hashchange', () => {
  follow?.abort();
  leaveEndpoint();
  void route();
});
void route();
