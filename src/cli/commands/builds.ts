import { ApiClient } from '../../api-client.ts';
import { EVENT_KINDS } from '../../core/event.ts';
import { BUILD_STATUSES } from '../../core/states.ts';
import type { BuildView } from '../../model.ts';
import { JSON_FLAG, type Command } from '../command.ts';

export const builds: Command = {
  name: 'builds',
  summary:
    'Lists builds newest first, filtered by pipeline, branch, event and status, a page at a time (from a running server).',
  usage: '[--pipeline P] [--branch B] [--event E] [--status S] [--limit N] [--cursor C] [--json]',
  details: 'Talks to a running server: PUSHCI_URL, and PUSHCI_API_TOKEN or the token in the data dir.',
  flags: [
    {
      name: 'pipeline',
      type: 'string',
      value: 'P',
      doc: 'Only builds of this pipeline: its id or its file (pipelines/web.yml, web.yml).',
    },
    { name: 'branch', type: 'string', value: 'B', doc: 'Only builds of this branch.' },
    {
      name: 'event',
      type: 'string',
      value: 'E',
      doc: `Only builds started by this event (${EVENT_KINDS.join(', ')}).`,
    },
    {
      name: 'status',
      type: 'string',
      value: 'S',
      doc: `Only builds in this state (${BUILD_STATUSES.join(', ')}).`,
    },
    { name: 'limit', type: 'string', value: 'N', doc: 'How many (default 50, at most 200).' },
    {
      name: 'cursor',
      type: 'string',
      value: 'C',
      doc: 'The next page: the cursor the previous page ended with.',
    },
    JSON_FLAG,
  ],
  settings: true,
  async run({ values, config }) {
    const api = new ApiClient(config());
    const q = new URLSearchParams();
    for (const k of ['pipeline', 'branch', 'event', 'status', 'limit', 'cursor'] as const)
      if (values[k]) q.set(k, String(values[k]));
    const page = await api.json<{ builds: BuildView[]; next: string | null }>(`/api/builds?${q}`);
    if (values.json) {
      console.log(JSON.stringify(page, null, 2));
      return 0;
    }
    if (page.builds.length === 0) console.error(`no builds${q.size ? ` match ${q}` : ' yet'}`);
    for (const b of page.builds)
      console.log(
        [
          b.status.padEnd(8),
          `${b.pipeline}#${b.number}`.padEnd(20),
          ref(b).padEnd(20),
          b.event.padEnd(12),
          b.sha.slice(0, 7),
          b.id,
          (b.message ?? b.pull_request?.title ?? b.cron ?? '').split('\n')[0]!.slice(0, 50),
        ].join('  '),
      );
    if (page.next) console.error(`… more: the same with --cursor ${page.next}`);
    return 0;
  },
};

/** What a build is of: its branch or tag, or for a pull request its number and branches. */
const ref = (b: BuildView) => {
  const pr = b.pull_request;
  return pr ? `#${pr.number} ${pr.source_branch}→${pr.target_branch}` : (b.branch ?? b.tag ?? b.ref);
};
