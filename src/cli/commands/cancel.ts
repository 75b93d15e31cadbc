import { ApiClient } from '../../api-client.ts';
import { resolveBuild } from '../resolve-build.ts';
import { UsageError } from '../../errors.ts';
import { JSON_FLAG, type Command } from '../command.ts';

export const cancel: Command = {
  name: 'cancel',
  summary:
    'Cancels a queued or running build (from a running server): its steps are stopped, its jobs end canceled.',
  usage: '<build> [--json]',
  flags: [JSON_FLAG],
  settings: true,
  async run({ values, args, config }) {
    if (!args[0]) throw new UsageError('usage: pushci cancel <build>');
    const api = new ApiClient(config());
    const r = await api.json<{ id: string; canceling: boolean }>(
      `/api/builds/${encodeURIComponent(await resolveBuild(api, args[0]))}/cancel`,
      { method: 'POST' },
    );
    console.log(values.json ? JSON.stringify(r) : `canceling ${r.id}`);
    return 0;
  },
};
