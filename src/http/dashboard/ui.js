// Small helpers every dashboard page shares: elements, the API, statuses, times.

/** `h('a', { href }, 'text', child)`: an element; `on*` attributes become listeners. */
export const h = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined && c !== false)
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
};

/** The line that says what a build is about: its commit's subject, or its pull request's title. */
export const headline = (b) => (b.message ?? b.pull_request?.title ?? '').split('\n')[0];

/** How a delivery names its build: `ci #12` (records from before numbers were kept: part of the id). */
export const deliveryBuild = (d) =>
  `${d.pipeline ?? ''} ${d.build_number != null ? `#${d.build_number}` : d.build_id.slice(-6)}`.trim();

/**
 * Text that may be long (a URL) on one line, cut with an ellipsis at the column's width, whole on hover
 * and when copied: rows stay one line high and columns stay aligned at any width.
 */
export const cut = (text, attrs = {}) => h('span', { class: 'cut', title: text, ...attrs }, text);

export const status = (s) => h('span', { class: `status ${s}`, 'data-status': s }, s);

/** A build whose steps ran without the sandbox says so wherever it is shown. */
export const unsandboxed = (b) =>
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

/** `850 ms`, `12.3 s`, `4 min 2 s`, `1 h 3 min`. */
export const duration = (ms) => {
  if (ms == null || Number.isNaN(ms)) return '';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} min`;
};

/** `just now`, `5 min ago`, `3 h ago`, `2 d ago`; past a month the date. */
export const relative = (iso, now = Date.now()) => {
  const ms = now - Date.parse(iso);
  if (ms < 10_000) return 'just now';
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)} h ago`;
  if (ms < 30 * 86_400_000) return `${Math.floor(ms / 86_400_000)} d ago`;
  return iso.slice(0, 10);
};

/** A relative time that stays current, with the exact ISO time on hover. */
export const when = (iso) =>
  iso ? h('time', { datetime: iso, title: iso, 'data-relative': '' }, relative(iso)) : '';

/** A running clock from `since` (an ISO time), updated every second while it is on the page. */
export const elapsed = (since, attrs = {}) =>
  h(
    'span',
    { ...attrs, class: `elapsed ${attrs.class ?? ''}`, 'data-since': since, title: `since ${since}` },
    duration(Date.now() - Date.parse(since)),
  );

/** One ticker for the whole page: relative times and running clocks. */
setInterval(() => {
  for (const el of document.querySelectorAll('[data-since]'))
    el.textContent = duration(Date.now() - Date.parse(el.dataset.since));
  for (const el of document.querySelectorAll('time[data-relative]'))
    el.textContent = relative(el.getAttribute('datetime'));
}, 1000);

export class AuthNeeded extends Error {}

/** JSON from the API; 401 throws AuthNeeded (the page then asks for the token). */
export async function api(path, opts = {}) {
  const res = await fetch(path, { credentials: 'same-origin', ...opts });
  if (res.status === 401) throw new AuthNeeded('token needed');
  if (res.status === 403) throw new Error((await res.json()).message);
  if (!res.ok) throw new Error(((await res.json().catch(() => null)) ?? {}).message ?? `${res.status}`);
  return res.json();
}

/** A write: always JSON (the server refuses state changes a cross-site form could have sent). */
export const post = (path, body = {}) =>
  api(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** The hash route: `#/builds/abc/test/L12?x=1` → { parts: ['builds','abc','test','L12'], query }. */
export function currentRoute() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs = ''] = raw.split('?');
  return {
    parts: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(qs),
  };
}

/** A page that rendered after its route was left must not land: compare the hash it was made for. */
export const stillOn = (hash) => location.hash === hash;

/** A short message under the page title, for errors of actions. */
export function flash(text, kind = 'problem') {
  const box = document.getElementById('flash');
  if (!box) return;
  box.replaceChildren(h('p', { class: kind, 'data-testid': 'flash' }, text));
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => box.replaceChildren(), 8000);
}
