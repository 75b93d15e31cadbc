// An endpoint's last 24 hours as a chart, and its delivery log with every attempt.

/** The states a delivery can be in, for the log's filter. */
export const STATES = ['delivered', 'retrying', 'failed', 'held', 'dropped'];

/** An SVG bar chart of the last 24 hours: delivered attempts up in green, failed ones in red. */
export function chart(ui, hours) {
  const svg = (tag, attrs) => {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    return el;
  };
  const W = 24 * 20;
  const H = 80;
  const max = Math.max(1, ...hours.map((b) => b.ok + b.failed));
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H + 14}`,
    class: 'chart',
    'data-testid': 'chart',
    role: 'img',
  });
  hours.forEach((b, i) => {
    const okH = (b.ok / max) * H;
    const failH = (b.failed / max) * H;
    const title = svg('title', {});
    title.textContent = `${new Date(b.hour).toLocaleString()}: ${b.ok} delivered, ${b.failed} failed${b.mean_ms != null ? `, ${b.mean_ms} ms on average` : ''}`;
    const g = svg('g', { 'data-hour': b.hour });
    g.append(title);
    g.append(svg('rect', { x: i * 20 + 2, y: H - okH - failH, width: 16, height: okH, class: 'ok' }));
    g.append(svg('rect', { x: i * 20 + 2, y: H - failH, width: 16, height: failH, class: 'fail' }));
    root.append(g);
  });
  root.append(svg('line', { x1: 0, x2: W, y1: H, y2: H, class: 'axis' }));
  const label = (x, anchor, text) => {
    const t = svg('text', { x, y: H + 13, 'text-anchor': anchor, class: 'label' });
    t.textContent = text;
    root.append(t);
  };
  label(0, 'start', '24 h ago');
  label(W, 'end', 'now');
  return root;
}

function attemptsRow(ui, d) {
  return ui.h(
    'tr',
    { class: 'attempts' },
    ui.h(
      'td',
      { colspan: 6 },
      ui.h(
        'table',
        {},
        ui.h('tr', {}, ...['#', 'At', 'Status', 'Latency', 'Error', 'Answer'].map((t) => ui.h('th', {}, t))),
        ...d.attempt_log.map((a) =>
          ui.h(
            'tr',
            {},
            ui.h('td', {}, a.attempt),
            ui.h('td', { class: 'muted' }, ui.ago(a.at)),
            ui.h('td', { class: 'mono' }, a.status ?? '—'),
            ui.h('td', {}, `${a.duration_ms} ms`),
            ui.h('td', {}, a.error ?? ''),
            ui.h('td', {}, ui.h('code', { class: 'snippet' }, (a.body ?? '').slice(0, 300))),
          ),
        ),
      ),
    ),
  );
}

export function deliveryLog(ui, deliveries) {
  const rows = [];
  for (const d of deliveries) {
    const last = d.attempt_log.at(-1);
    const details = attemptsRow(ui, d);
    details.hidden = true;
    rows.push(
      ui.h(
        'tr',
        {
          class: 'build',
          'data-delivery': d.id,
          'data-state': d.state,
          onclick: () => (details.hidden = !details.hidden),
        },
        ui.h(
          'td',
          {},
          ui.status(
            d.state === 'delivered'
              ? 'success'
              : d.state === 'failed' || d.state === 'dropped'
                ? 'failure'
                : 'running',
          ),
          ' ',
          d.state,
        ),
        ui.h('td', {}, d.type),
        ui.h(
          'td',
          {},
          d.build_id
            ? ui.h('a', { href: `#/builds/${d.build_id}`, title: d.build_id }, ui.deliveryBuild(d))
            : d.id.startsWith('msg_test_')
              ? 'test event'
              : '',
        ),
        ui.h('td', {}, d.attempts),
        ui.h('td', { class: 'mono' }, last ? `${last.status ?? ''} ${last.error ?? ''}` : ''),
        ui.h('td', {}, last ? `${last.duration_ms} ms` : ''),
        ui.h('td', { class: 'muted', 'data-testid': 'delivery-when' }, last ? ui.ago(last.at) : ''),
      ),
      details,
    );
  }
  return ui.h(
    'table',
    { 'data-testid': 'delivery-log' },
    ui.h(
      'tr',
      {},
      ...['State', 'Event', 'Build', 'Attempts', 'Last answer', 'Latency', 'When'].map((t) =>
        ui.h('th', {}, t),
      ),
    ),
    ...rows,
  );
}
