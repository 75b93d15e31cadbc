import { ApiClient } from '../../api-client.ts';
import { resolveBuild } from '../resolve-build.ts';
import { UsageError } from '../../errors.ts';
import { followBuild } from '../../follow.ts';
import type { Command } from '../command.ts';

export const logs: Command = {
  name: 'logs',
  summary:
    "Prints a build's job logs in order (live with --follow); exit code 1 when the build failed, errored, was cancelled or skipped.",
  usage: '<build> [--job J] [--follow] [--json]',
  details:
    'Exit codes: 0 the build succeeded (or, without --follow, is still running: its logs so far); 1 it\nfailed, errored, was cancelled or skipped.',
  flags: [
    { name: 'job', type: 'string', value: 'J', doc: 'Only this job.' },
    {
      name: 'follow',
      short: 'f',
      type: 'boolean',
      doc: 'Wait for the jobs and stream their logs until the build ends.',
    },
    { name: 'json', type: 'boolean', doc: 'Print the build as JSON at the end instead of a summary line.' },
  ],
  settings: true,
  async run({ values, args, config }) {
    if (!args[0]) throw new UsageError('usage: pushci logs <build> [--job J] [--follow]');
    const api = new ApiClient(config());
    return followBuild(api, await resolveBuild(api, args[0]), {
      job: values.job as string | undefined,
      follow: Boolean(values.follow),
      json: Boolean(values.json),
    });
  },
};
