import { ApiClient } from '../../api-client.ts';
import { UsageError } from '../../errors.ts';
import { JSON_FLAG, type Command } from '../command.ts';

export const redeliver: Command = {
  name: 'redeliver',
  summary: 'Sends an outbound delivery again, with the same message id (from a running server).',
  usage: '<delivery-id> [--json]',
  flags: [JSON_FLAG],
  settings: true,
  async run({ values, args, config }) {
    if (!args[0]) throw new UsageError('usage: pushci redeliver <delivery-id>');
    const r = await new ApiClient(config()).json<{ id: string }>(
      `/api/deliveries/${encodeURIComponent(args[0])}/redeliver`,
      { method: 'POST' },
    );
    console.log(values.json ? JSON.stringify(r) : `delivering ${r.id} again`);
    return 0;
  },
};
