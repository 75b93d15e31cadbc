// Outbound deliveries: a table the build page and the Deliveries page share, with a redeliver button.
import { api, cut, deliveryBuild, flash, h, post, status, when } from './ui.js';

const stateStatus = (s) => (s === 'delivered' ? 'success' : s === 'failed' ? 'failure' : 'running');

/** `opts.withBuild` adds a column linking each delivery's build; `opts.onRedelivered` runs after a redeliver. */
export function deliveryTable(list, opts = {}) {
  return h(
    'table',
    { 'data-testid': 'deliveries' },
    h(
      'tr',
      {},
      ...[
        'State',
        'Event',
        ...(opts.withBuild ? ['Build'] : []),
        'Target',
        'Attempts',
        'Last answer',
        'When',
        '',
      ].map((t) => h('th', {}, t)),
    ),
    ...list.map((d) => {
      const last = d.attempt_log?.at(-1);
      const done = d.state === 'delivered' || d.state === 'failed';
      return h(
        'tr',
        { 'data-delivery': d.id },
        h('td', {}, status(stateStatus(d.state)), ' ', d.state),
        h('td', {}, d.type),
        opts.withBuild
          ? h(
              'td',
              {},
              d.build_id
                ? h('a', { href: `#/builds/${d.build_id}`, title: d.build_id }, deliveryBuild(d))
                : '',
            )
          : null,
        h('td', { class: 'mono url' }, cut(d.target, { 'data-testid': 'delivery-target' })),
        h('td', {}, d.attempts),
        h(
          'td',
          { class: 'mono wrap' },
          last
            ? `${last.status ?? ''} ${last.error ?? ''} ${last.duration_ms != null ? `${last.duration_ms} ms` : ''}`
            : '',
        ),
        h('td', {}, when(d.last_attempt_at ?? last?.at ?? null)),
        h(
          'td',
          {},
          done
            ? h(
                'button',
                {
                  'data-testid': 'redeliver',
                  title: 'Send the same message again (same webhook-id, fresh signature)',
                  onclick: async (e) => {
                    e.target.disabled = true;
                    try {
                      await post(`/api/deliveries/${encodeURIComponent(d.id)}/redeliver`);
                      flash(`Delivery ${d.id} is on its way again.`, 'note');
                      await opts.onRedelivered?.();
                    } catch (err) {
                      flash(`Redeliver: ${err.message}`);
                      e.target.disabled = false;
                    }
                  },
                },
                'Redeliver',
              )
            : null,
        ),
      );
    }),
  );
}

export async function deliveriesPage(main) {
  const d = await api('/api/deliveries?recent=50');
  const draw = (list) =>
    main.replaceChildren(
      h('h2', {}, 'Recent deliveries'),
      h('div', { id: 'flash' }),
      list.length
        ? deliveryTable(list, { withBuild: true, onRedelivered: reload })
        : h('p', { class: 'muted' }, 'none yet'),
    );
  const reload = async () => draw((await api('/api/deliveries?recent=50')).deliveries);
  draw(d.deliveries);
  return { kind: 'deliveries' };
}
