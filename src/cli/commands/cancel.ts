import { ApiClient } from '../../api-client.ts';
import { resolveBuild } from '../resolve-build.ts';
import { UsageError } from '../../errors.ts';
import { JSON_FLAG, type Command } from '../command.ts';

export const cancel: Command = {
  name: 'cancel',
  summary:
    'Cancels a queued or running build (from a running server): its running steps are stopped, and only steps and jobs whose if: calls always() or cancelled() still run; cancelling again stops those too.',
  usage: '<build> [--json]',
  flags: [JSON_FLAG],
  settings: true,
  async run({ values, args, config }) {
    if (!args[0]) throw new UsageError('usage: pushci cancel <build>');
    const api = new ApiClient(config());
    const r = await api.json<{ id: string; canceling: boolean; forced?: boolean }>(
      `/api/builds/${encodeURIComponent(await resolveBuild(api, args[0]))}/cancel`,
      { method: 'POST' },
    );
    console.log(
      values.json
        ? JSON.stringify(r)
        : r.forced
          ? `stopping ${r.id} now: what still ran after the first cancel ends, and no further job starts`
          : `canceling ${r.id}: its running steps stop; steps and jobs whose if: calls always() or cancelled() still run (pushci cancel again stops them)`,
    );
    return 0;
  },
};
