import { ApiClient } from '../../api-client.ts';
import { resolveBuild } from '../resolve-build.ts';
import { UsageError } from '../../errors.ts';
import { followBuild } from '../../follow.ts';
import { JSON_FLAG, type Command } from '../command.ts';

export const rerun: Command = {
  name: 'rerun',
  summary:
    'Builds the same commit of a finished build again (from a running server); --failed re-runs only its failed jobs and those that need them.',
  usage: '<build> [--failed] [--follow] [--json]',
  flags: [
    {
      name: 'failed',
      type: 'boolean',
      doc: 'Re-run only the failed, errored and canceled jobs (and the jobs that need them); the others keep their results.',
    },
    {
      name: 'follow',
      short: 'f',
      type: 'boolean',
      doc: 'Stream the logs until the new build ends; exit code 1 unless it succeeded.',
    },
    JSON_FLAG,
  ],
  settings: true,
  async run({ values, args, config }) {
    if (!args[0]) throw new UsageError('usage: pushci rerun <build> [--failed] [--follow]');
    const api = new ApiClient(config());
    const r = await api.json<{ builds: Array<{ id: string; pipeline: string; number: number }> }>(
      `/api/builds/${encodeURIComponent(await resolveBuild(api, args[0]))}/${values.failed ? 'rerun-failed' : 'rerun'}`,
      { method: 'POST' },
    );
    const b = r.builds[0]!;
    if (values.json && !values.follow) console.log(JSON.stringify(b));
    else console.error(`started ${b.pipeline}#${b.number} (${b.id})`);
    return values.follow ? followBuild(api, b.id, { follow: true, json: Boolean(values.json) }) : 0;
  },
};
