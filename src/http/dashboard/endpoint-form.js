// The form that registers or edits an endpoint: URL, events, pipelines, description.

/** The events an endpoint can subscribe to. */
export const EVENTS = ['build.queued', 'build.started', 'job.completed', 'build.completed'];

const list = (text) =>
  text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export function endpointForm(ui, e, onSubmit) {
  const field = (label, input) => ui.h('label', { class: 'field' }, ui.h('span', {}, label), input);
  const events = EVENTS.map((t) =>
    ui.h(
      'label',
      { class: 'check' },
      ui.h('input', { type: 'checkbox', name: 'events', value: t, checked: !e || e.events.includes(t) }),
      ` ${t}`,
    ),
  );
  const problem = ui.h('p', { class: 'problems', 'data-testid': 'form-problem' });
  return ui.h(
    'form',
    {
      class: 'endpoint-form',
      'data-testid': 'endpoint-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const f = ev.target.elements;
        const body = {
          url: f.url.value.trim(),
          description: f.description.value,
          events: [...f.events].filter((c) => c.checked).map((c) => c.value),
          pipelines: list(f.pipelines.value),
          branches: list(f.branches.value),
          on_pause: f.on_pause.value,
        };
        problem.textContent = '';
        try {
          await onSubmit(body);
        } catch (err) {
          problem.textContent = err.message;
        }
      },
    },
    field(
      'URL',
      ui.h('input', { name: 'url', required: true, value: e?.url ?? '', placeholder: 'https://…' }),
    ),
    field('Description', ui.h('input', { name: 'description', value: e?.description ?? '' })),
    field('Events', ui.h('div', {}, ...events)),
    field(
      'Pipelines',
      ui.h('input', {
        name: 'pipelines',
        value: e?.pipelines.join(', ') ?? '',
        placeholder: 'all (globs: web, api-*, !old)',
      }),
    ),
    field(
      'Branches',
      ui.h('input', {
        name: 'branches',
        value: e?.branches.join(', ') ?? '',
        placeholder: 'all (globs: main, release/**)',
      }),
    ),
    field(
      'While paused',
      ui.h(
        'select',
        { name: 'on_pause' },
        ui.h(
          'option',
          { value: 'keep', selected: e?.on_pause !== 'drop' },
          'keep messages, deliver on resume',
        ),
        ui.h('option', { value: 'drop', selected: e?.on_pause === 'drop' }, 'drop messages'),
      ),
    ),
    ui.h('button', { type: 'submit', 'data-testid': 'save' }, e ? 'Save' : 'Register'),
    problem,
  );
}
