// Workers: every worker process alive now, its labels, what it runs, and when it last said so.
import { api, h, when } from './ui.js';

export async function workersPage(main) {
  const { workers } = await api('/api/workers');
  main.replaceChildren(
    h('h2', {}, 'Workers'),
    h(
      'p',
      { class: 'muted' },
      'Each worker process says it is alive every 5 seconds; one silent for 15 seconds leaves this list.',
    ),
    workers.length === 0
      ? h(
          'p',
          { class: 'problem', 'data-testid': 'empty' },
          'No worker is running: queued jobs wait until one starts (pushci worker, or pushci serve).',
        )
      : h(
          'table',
          { 'data-testid': 'workers' },
          h(
            'tr',
            {},
            ...['Worker', 'Labels', 'Running', 'Last heartbeat', 'Started'].map((t) => h('th', {}, t)),
          ),
          ...workers.map((w) =>
            h(
              'tr',
              { 'data-worker': w.id },
              h('td', { class: 'mono' }, `${w.host} (pid ${w.pid})`),
              h('td', {}, w.labels.length ? w.labels.join(', ') : h('span', { class: 'muted' }, 'any job')),
              h(
                'td',
                {},
                `${w.running.length} of ${w.concurrency}`,
                ...w.running.map((r) => [
                  h('br', {}),
                  h(
                    'a',
                    { href: `#/builds/${r.build_id}/${encodeURIComponent(r.job)}`, class: 'mono' },
                    `${r.job} · ${r.build_id}`,
                  ),
                ]),
              ),
              h('td', {}, when(w.last_heartbeat)),
              h('td', {}, when(w.started_at)),
            ),
          ),
        ),
  );
  return { kind: 'workers', onEvent: 'reload' };
}
