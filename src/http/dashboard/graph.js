// The job graph: a column per depth of `needs`, edges drawn from each job to the jobs that need it,
// the combinations of one matrix job in one box.
import { duration, elapsed, h, status } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';

/** The matrix a job belongs to (its id in the file), or null. */
export const matrixOf = (j) =>
  j.group ?? (j.matrix && j.display_name ? j.display_name.replace(/ \(.*\)$/, '') : null);

/** `onSelect(name)` when a job is clicked; `selected` is the shown job's name. */
export function jobGraph(jobs, selected, hrefOf) {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const depth = new Map();
  const depthOf = (name, seen = new Set()) => {
    if (depth.has(name)) return depth.get(name);
    const job = byName.get(name);
    if (!job || seen.has(name)) return 0;
    seen.add(name);
    const d = job.needs.length === 0 ? 0 : 1 + Math.max(...job.needs.map((n) => depthOf(n, seen)));
    depth.set(name, d);
    return d;
  };
  for (const j of jobs) depthOf(j.name);
  // Columns of boxes; a box is one job or one matrix (its combinations inside).
  const columns = [];
  const boxOf = new Map();
  for (const j of jobs) {
    const col = (columns[depth.get(j.name)] ??= []);
    const group = matrixOf(j);
    let box = group ? col.find((b) => b.group === group) : null;
    if (!box) {
      box = { group, jobs: [] };
      col.push(box);
    }
    box.jobs.push(j);
    boxOf.set(j.name, box);
  }
  const card = (j) =>
    h(
      'a',
      {
        class: `job ${j.status}${j.name === selected ? ' selected' : ''}`,
        href: hrefOf(j.name),
        'data-job': j.name,
        'data-status': j.status,
      },
      h('div', { class: 'job-title' }, h('b', {}, j.display_name ?? j.name), ' ', status(j.status)),
      h(
        'div',
        { class: 'muted' },
        j.status === 'running' && j.started_at
          ? elapsed(j.started_at, { 'data-testid': 'job-elapsed' })
          : duration(j.duration_ms),
        j.attempt > 1 ? ` · attempt ${j.attempt}` : '',
      ),
    );
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'edges');
  svg.setAttribute('aria-hidden', 'true');
  const el = h(
    'div',
    { class: 'graph', 'data-testid': 'graph' },
    svg,
    ...columns.map((col) =>
      h(
        'div',
        { class: 'column' },
        ...col.map((box) => {
          box.el = box.group
            ? h(
                'div',
                { class: 'matrix', 'data-matrix': box.group },
                h(
                  'div',
                  { class: 'matrix-title' },
                  box.group,
                  h('span', { class: 'muted' }, ` · ${box.jobs.length} jobs`),
                ),
                ...box.jobs.map(card),
              )
            : card(box.jobs[0]);
          return box.el;
        }),
      ),
    ),
  );
  // Edges once laid out; again when the width changes.
  const edges = [];
  for (const j of jobs)
    for (const n of j.needs) {
      const from = boxOf.get(n);
      const to = boxOf.get(j.name);
      if (from && to && from !== to && !edges.some((e) => e.from === from && e.to === to))
        edges.push({ from, to, need: n, job: j.name });
    }
  const draw = () => {
    const origin = el.getBoundingClientRect();
    svg.setAttribute('width', String(el.scrollWidth));
    svg.setAttribute('height', String(el.scrollHeight));
    svg.replaceChildren(
      ...edges.map((e) => {
        const a = e.from.el.getBoundingClientRect();
        const b = e.to.el.getBoundingClientRect();
        const x1 = a.right - origin.left + el.scrollLeft;
        const y1 = a.top + a.height / 2 - origin.top;
        const x2 = b.left - origin.left + el.scrollLeft;
        const y2 = b.top + b.height / 2 - origin.top;
        const mid = (x1 + x2) / 2;
        const path = document.createElementNS(SVG, 'path');
        path.setAttribute('d', `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`);
        path.setAttribute('data-edge', `${e.need}->${e.job}`);
        return path;
      }),
    );
  };
  const observer = new ResizeObserver(draw);
  observer.observe(el);
  return el;
}
