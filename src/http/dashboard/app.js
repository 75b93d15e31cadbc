// The pushci dashboard: plain modules, no build step. Data comes from /api; live updates from /api/events.
// Each page is its own module and returns a small controller: { kind, onEvent?, update?, leave? }.
import { buildPage } from './build-page.js';
import { deliveriesPage } from './deliveries.js';
import { endpointPage, leaveEndpoint } from './endpoint-page.js';
import { endpointsPage, markDisabled } from './endpoints.js';
import { buildsPage } from './builds-page.js';
import { pipelinePage } from './pipeline-page.js';
import { pipelinesPage } from './pipelines-page.js';
import { AuthNeeded, api, currentRoute, cut, deliveryBuild, h, relative, status } from './ui.js';
import { webhookPage, webhooksPage } from './webhooks.js';
import { workersPage } from './workers.js';

// The Endpoints pages render into the element they are given, and re-render themselves after an action:
// the first render goes to the detached element the router shows, later ones to the page itself.
const endpointsView = async (el, id) => {
  let shown = false;
  const target = { replaceChildren: (...nodes) => (shown ? main : el).replaceChildren(...nodes) };
  const ui = {
    h,
    api,
    status,
    cut,
    deliveryBuild,
    main: target,
    still: (hash) => location.hash === hash,
    ago: (iso) => (iso ? relative(iso) : ''),
  };
  await (id ? endpointPage(ui, id) : endpointsPage(ui));
  shown = true;
  return { kind: 'endpoints', leave: leaveEndpoint };
};

const main = document.getElementById('main');
const live = document.getElementById('live');

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

/** The page a route shows; `#/builds/<id>/<job>/L<line>` is the build page with a job and a line. */
function pageFor({ parts, query }) {
  const [page, id, job, line] = parts;
  if (page === 'builds' && id)
    return {
      nav: 'builds',
      build: { id, job, line: line && /^L\d+$/.test(line) ? Number(line.slice(1)) : null },
      render: (el) => buildPage(el, id, { job, line: line ? Number(line.slice(1)) : null }),
    };
  // A pipeline by its id or its file: `#/pipelines/pipelines/web.yml` is one pipeline, not a job of one.
  if (page === 'pipelines' && id)
    return { nav: 'pipelines', render: (el) => pipelinePage(el, parts.slice(1).join('/')) };
  if (page === 'pipelines') return { nav: 'pipelines', render: (el) => pipelinesPage(el) };
  if (page === 'webhooks' && id) return { nav: 'webhooks', render: (el) => webhookPage(el, id) };
  if (page === 'webhooks') return { nav: 'webhooks', render: (el) => webhooksPage(el, query) };
  if (page === 'workers') return { nav: 'workers', render: (el) => workersPage(el) };
  if (page === 'deliveries') return { nav: 'deliveries', render: (el) => deliveriesPage(el) };
  if (page === 'endpoints') return { nav: 'endpoints', render: (el) => endpointsView(el, id) };
  return { nav: 'builds', render: (el) => buildsPage(el, query) };
}

let view = null; // the shown page's controller
let generation = 0;
async function route() {
  const target = pageFor(currentRoute());
  for (const a of document.querySelectorAll('[data-nav]'))
    a.classList.toggle('active', a.dataset.nav === target.nav);
  // Another job or line of the build on screen: the page moves itself, the log keeps streaming.
  if (target.build && view?.update?.(target.build)) return;
  const mine = ++generation;
  view?.leave?.();
  view = null;
  // Pages render into a detached element; a render for a page the user already left never lands.
  const el = h('div', {});
  try {
    const page = await target.render(el);
    if (mine !== generation) return page?.leave?.();
    main.replaceChildren(...el.childNodes);
    view = page;
    void markDisabled({ h, api }, document.querySelector('[data-nav="endpoints"]'));
    connect();
  } catch (err) {
    if (mine !== generation) return;
    if (err instanceof AuthNeeded) showLogin();
    else main.replaceChildren(h('p', { class: 'problem' }, String(err.message)));
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
    if (typeof view?.onEvent === 'function') return view.onEvent(ev);
    if (view?.onEvent !== 'reload') return;
    // Lists: a burst of events redraws once.
    clearTimeout(pending);
    pending = setTimeout(() => {
      if (view?.onEvent === 'reload') void route();
    }, 250);
  });
}

window.addEventListener('hashchange', () => void route());
void route();
