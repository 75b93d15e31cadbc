// The pipelines list: every pipeline file, its state, and its latest build.
import { hashWith } from './builds-page.js';
import { api, h, when } from './ui.js';

export async function pipelinesPage(main) {
  const p = await api('/api/pipelines');
  const broken = (p.files ?? []).filter((f) => f.state !== 'ok');
  const servedAs = (f) =>
    f.state === 'last-good'
      ? [`broken: its last good version (${f.pipeline}, loaded `, when(f.since), ') stays in force']
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
              h('p', {}, h('span', { class: 'mono' }, f.file), ' — ', servedAs(f)),
              h('ul', { class: 'problems' }, ...f.problems.map((d) => h('li', {}, d.text))),
            ),
          ),
          broken.length ? '' : h('ul', { class: 'problems' }, ...p.problems.map((d) => h('li', {}, d.text))),
        )
      : h('p', { class: 'muted' }, 'All pipeline files are valid (loaded ', when(p.loaded_at), ').'),
    h(
      'table',
      { 'data-testid': 'pipelines' },
      h('tr', {}, ...['Name', 'Repository', 'Jobs', 'File', 'State', ''].map((t) => h('th', {}, t))),
      ...p.pipelines.map((x) =>
        h(
          'tr',
          { 'data-pipeline': x.name },
          h('td', {}, h('a', { href: `#/pipelines/${encodeURIComponent(x.name)}` }, x.name)),
          h('td', { class: 'mono' }, x.repository),
          h('td', {}, x.jobs.map((j) => j.name).join(', ')),
          h('td', { class: 'mono muted' }, x.file),
          h(
            'td',
            { class: x.state === 'last-good' ? 'problems' : 'muted' },
            x.state === 'last-good' ? 'last good version (file broken)' : 'ok',
          ),
          h('td', {}, h('a', { href: hashWith({ pipeline: x.name }) }, 'builds')),
        ),
      ),
    ),
  );
  return { kind: 'pipelines' };
}
