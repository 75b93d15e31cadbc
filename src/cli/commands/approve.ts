import { userInfo } from 'node:os';
import { ApiClient } from '../../api-client.ts';
import { resolveBuild } from '../resolve-build.ts';
import { UsageError } from '../../errors.ts';
import { JSON_FLAG, type Command } from '../command.ts';

export const approve: Command = {
  name: 'approve',
  summary:
    "Lets a fork's pull request build run (from a running server); the approval is recorded with who and when.",
  usage: '<build> [--as NAME] [--json]',
  flags: [
    {
      name: 'as',
      type: 'string',
      value: 'NAME',
      doc: 'Who approves, as recorded on the build (default: your user name).',
    },
    JSON_FLAG,
  ],
  settings: true,
  async run({ values, args, config }) {
    if (!args[0]) throw new UsageError('usage: pushci approve <build> [--as NAME]');
    const by = (values.as as string | undefined) ?? userInfo().username;
    const api = new ApiClient(config());
    const r = await api.json<{ id: string; approval: { by: string; at: string } }>(
      `/api/builds/${encodeURIComponent(await resolveBuild(api, args[0]))}/approve`,
      { method: 'POST', body: JSON.stringify({ by }) },
    );
    console.log(values.json ? JSON.stringify(r) : `approved ${r.id} as ${r.approval.by}; it is queued`);
    return 0;
  },
};
