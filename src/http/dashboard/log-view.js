// A job's log on the page: collapsible step (and group) sections with status and duration, numbered
// lines that can be linked to, search, raw download, and a live tail of a running job.
import { ansiLine, plain } from './ansi.js';
import { LogModel } from './log-model.js';
import { duration, elapsed, h } from './ui.js';

const OPEN_BY_DEFAULT = new Set(['failure', 'error', 'canceled', 'running', 'unknown']);
const ICONS = {
  success: '✓',
  failure: '✗',
  error: '✗',
  canceled: '⊘',
  skipped: '–',
  running: '●',
  unknown: '?',
};

/**
 * The log view of one job. `lineHref(n)` makes a line's link; `target` is a line to show at once.
 * Call `follow()` to stream it; `finish(status)` when the job is known to be over.
 */
export function logView({ build, job, lineHref, target = null, onFirstLine = null }) {
  const model = new LogModel();
  const base = `/api/builds/${encodeURIComponent(build)}/jobs/${encodeURIComponent(job)}/log`;
  const lineEls = [null];
  const sectionEls = [];
  const body = h('div', { class: 'log', 'data-testid': 'log', role: 'log' });
  const count = h('span', { class: 'muted', 'data-testid': 'log-search-count' });
  const search = h('input', {
    type: 'search',
    placeholder: 'Search this log',
    'aria-label': 'Search this log',
    'data-testid': 'log-search',
  });
  const el = h(
    'div',
    { class: 'logview', 'data-testid': 'logview', 'data-log-job': job },
    h(
      'div',
      { class: 'logbar' },
      search,
      count,
      h('button', { type: 'button', title: 'Previous match (Shift+Enter)', onclick: () => step(-1) }, '↑'),
      h('button', { type: 'button', title: 'Next match (Enter)', onclick: () => step(1) }, '↓'),
      h('span', { class: 'grow' }),
      h('button', { type: 'button', onclick: () => setAll(true), 'data-testid': 'expand-all' }, 'Expand all'),
      h('button', { type: 'button', onclick: () => setAll(false) }, 'Collapse all'),
      h('a', { href: base, target: '_blank', rel: 'noopener', 'data-testid': 'log-raw' }, 'Raw'),
      h('a', { href: `${base}?download=1`, download: '', 'data-testid': 'log-download' }, 'Download'),
    ),
    body,
  );

  // The page opens and folds sections as steps run and end; once the user opens or folds one, it stays
  // as they left it. `toggle` events arrive later (a task), so a section remembers what the page last
  // set, and a toggle to anything else was the user's.
  const setOpen = (details, open) => {
    details.wanted = open;
    if (details.open !== open) details.open = open;
  };

  // -- sections --------------------------------------------------------------------------------------
  // A step inside an action (its own steps, its pre and post) is a section inside the action's, named
  // without the action's name in front.
  const shortName = (s) => {
    const parent = s.parent === null ? null : model.sections[s.parent];
    return parent && s.name.startsWith(`${parent.name} / `) ? s.name.slice(parent.name.length + 3) : s.name;
  };
  // Open: a section that failed or runs, one holding a linked line, and an action any of whose steps is.
  const wantsOpen = (s) =>
    OPEN_BY_DEFAULT.has(s.status) ||
    sectionEls[s.index]?.holdsTarget ||
    s.children.some((c) => wantsOpen(model.sections[c]));
  // A skipped step never ran: no duration rather than "0 ms".
  const summaryOf = (s) => {
    const took =
      s.status === 'running' && s.start
        ? elapsed(new Date(s.start).toISOString(), { 'data-testid': 'step-elapsed' })
        : s.start && s.end && s.status !== 'skipped'
          ? duration(s.end - s.start)
          : '';
    return [
      h('span', { class: `icon ${s.status}`, 'aria-hidden': 'true' }, ICONS[s.status] ?? '·'),
      h('span', { class: 'name' }, shortName(s)),
      h('span', { class: 'took muted', 'data-testid': 'step-duration' }, took),
    ];
  };
  const drawSummary = (s) => {
    const box = sectionEls[s.index];
    box.details.className = `section ${s.kind} ${s.status}${s.parent === null ? '' : ' nested'}`;
    box.details.dataset.status = s.status;
    box.summary.replaceChildren(...summaryOf(s));
    if (!box.touched) setOpen(box.details, wantsOpen(s));
    // The actions around it open while one of their steps runs or when one fails, and fold again after
    // (a post that ran and passed after its action ended).
    for (let p = s.parent; p !== null; p = model.sections[p].parent) {
      const up = sectionEls[p];
      if (!up.touched) setOpen(up.details, wantsOpen(model.sections[p]));
    }
  };
  model.on((kind, a, b, c) => {
    if (kind === 'section') {
      const summary = h('summary', {});
      const lines = h('div', { class: 'lines' });
      const details = h(
        'details',
        { 'data-testid': 'step', 'data-section': a.index, 'data-step': a.name },
        summary,
        lines,
      );
      const box = { details, summary, lines, touched: false, holdsTarget: false };
      details.addEventListener('toggle', () => {
        if (details.open !== details.wanted) box.touched = true;
      });
      sectionEls[a.index] = box;
      if (a.parent === null) body.append(details);
      else sectionEls[a.parent].lines.append(details);
      drawSummary(a);
    } else if (kind === 'status') drawSummary(a);
    else if (kind === 'adopt') {
      // A pre that ran at the job's start moves into its action's section when the action starts.
      sectionEls[b.index].lines.prepend(sectionEls[a.index].details);
      drawSummary(a);
    } else if (kind === 'group') {
      const summary = h('summary', {});
      const lines = h('div', { class: 'lines' });
      const details = h('details', { class: 'group', 'data-testid': 'group' }, summary, lines);
      b.el = { details, summary, lines };
      sectionEls[a.index].lines.append(details);
    } else if (kind === 'line') drawLine(a, b, c);
  });

  const drawLine = (line, section, group) => {
    const text = h('span', { class: 'm' }, ansiLine(line.text));
    const el = h(
      'div',
      {
        class: `line ${line.stream}${line.hidden ? ' hidden' : ''}`,
        id: `L${line.n}`,
        'data-line': line.n,
      },
      h('a', { class: 'ln', href: lineHref(line.n), 'aria-label': `line ${line.n}` }, line.n),
      line.t
        ? h(
            'span',
            { class: 't', title: new Date(line.t).toISOString() },
            new Date(line.t).toISOString().slice(11, 19),
          )
        : null,
      text,
    );
    lineEls[line.n] = el;
    if (line.opens) {
      line.opens.el.summary.append(el);
    } else (group ? group.el.lines : sectionEls[section.index].lines).append(el);
    if (query && matches(line)) {
      el.classList.add('match');
      hits.push(line.n);
      showCount();
    }
    if (line.n === target) reveal(target, true);
  };

  // -- linking to a line ----------------------------------------------------------------------------
  let marked = null;
  /** Opens the line's section and group, marks it and scrolls to it. */
  function reveal(n, mark) {
    const el = lineEls[n];
    if (!el) return false;
    const line = model.lines[n - 1];
    const box = sectionEls[line.section];
    box.holdsTarget ||= mark;
    setOpen(box.details, true);
    for (let p = el.parentElement; p && p !== body; p = p.parentElement)
      if (p.tagName === 'DETAILS') setOpen(p, true);
    if (mark) {
      marked?.classList.remove('target');
      el.classList.add('target');
      marked = el;
    }
    el.scrollIntoView({ block: 'center' });
    return true;
  }

  // -- search --------------------------------------------------------------------------------------
  let query = '';
  let hits = [];
  let at = -1;
  const matches = (line) => plain(line.text).toLowerCase().includes(query);
  const showCount = () => (count.textContent = query ? `${hits.length ? at + 1 : 0} of ${hits.length}` : '');
  function runSearch() {
    for (const n of hits) lineEls[n]?.classList.remove('match', 'current');
    query = search.value.trim().toLowerCase();
    hits = query ? model.lines.filter(matches).map((l) => l.n) : [];
    at = hits.length ? 0 : -1;
    for (const n of hits) lineEls[n]?.classList.add('match');
    highlightText();
    if (at >= 0) goTo(0);
    showCount();
  }
  function goTo(i) {
    if (at >= 0) lineEls[hits[at]]?.classList.remove('current');
    at = i;
    lineEls[hits[at]]?.classList.add('current');
    reveal(hits[at], false);
    showCount();
  }
  function step(dir) {
    if (hits.length) goTo((at + dir + hits.length) % hits.length);
  }
  // The matched words themselves, through the CSS Custom Highlight API where the browser has it.
  function highlightText() {
    if (!globalThis.CSS?.highlights || typeof Highlight === 'undefined') return;
    const ranges = [];
    for (const n of hits) {
      const walker = document.createTreeWalker(lineEls[n].querySelector('.m'), NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const lower = node.data.toLowerCase();
        for (let i = lower.indexOf(query); i >= 0; i = lower.indexOf(query, i + query.length)) {
          const r = new Range();
          r.setStart(node, i);
          r.setEnd(node, i + query.length);
          ranges.push(r);
        }
      }
    }
    CSS.highlights.set('log-search', new Highlight(...ranges));
  }
  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(runSearch, 120);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    clearTimeout(timer);
    if (search.value.trim().toLowerCase() !== query) runSearch();
    else step(e.shiftKey ? -1 : 1);
  });

  function setAll(open) {
    for (const box of sectionEls) {
      box.touched = true;
      setOpen(box.details, open);
      for (const g of box.lines.querySelectorAll('details.group')) setOpen(g, open);
    }
  }

  // -- streaming -------------------------------------------------------------------------------------
  let abort = null;
  /** Streams the log (the whole of it, then new lines until the job ends). */
  async function follow() {
    abort = new AbortController();
    const res = await fetch(`${base}?follow=1`, { signal: abort.signal, credentials: 'same-origin' });
    if (!res.ok || !res.body) return;
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
        const stick = !marked && !query && body.scrollTop + body.clientHeight >= body.scrollHeight - 24;
        const fresh = model.lines.length === 0 && lines.length > 0;
        for (const raw of lines) model.add(raw);
        if (fresh) onFirstLine?.();
        if (stick) body.scrollTop = body.scrollHeight;
      }
    } catch (err) {
      if (err.name !== 'AbortError') throw err;
    }
  }

  return {
    el,
    model,
    follow,
    stop: () => abort?.abort(),
    /** Marks line `n` (from a link); it is marked when it arrives if it is not there yet. */
    target(n) {
      target = n;
      if (n) reveal(n, true);
    },
    /** The job ended (`at`: its ISO end time): what is still open ends with it. */
    finish(status, at) {
      model.finish(status, at ? Date.parse(at) : Date.now());
    },
  };
}
