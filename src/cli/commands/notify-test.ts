import { UsageError } from '../../errors.ts';
import { createAddressGuard } from '../../notify/ssrf.ts';
import { sendTestEvents } from '../../notify/test-events.ts';
import { JSON_FLAG, type Command } from '../command.ts';

export const notifyTest: Command = {
  name: 'notify-test',
  summary: 'Sends a signed example of every outbound event to a receiver; exit code 1 when one is refused.',
  usage: '<url> --secret whsec_... [--json]',
  details:
    'Give --secret twice during a rotation (the message is signed with both). Without --secret it uses PUSHCI_NOTIFY_SECRET.\nThe address policy is that of real deliveries: an internal address is refused unless PUSHCI_NOTIFY_ALLOW allows it.',
  flags: [
    { name: 'secret', type: 'string', multiple: true, value: 'whsec_...', doc: "The receiver's secret." },
    JSON_FLAG,
  ],
  settings: true,
  async run({ values, args, config }) {
    const url = args[0];
    const c = config();
    const secrets = (values.secret as string[] | undefined) ?? c.notifySecrets;
    if (!url || secrets.length === 0)
      throw new UsageError('usage: pushci notify-test <url> --secret whsec_... (twice during a rotation)');
    // The same address policy as real deliveries: a receiver notify-test reaches, deliveries reach too.
    const results = await sendTestEvents(url, secrets, {
      guard: createAddressGuard(c.notifyAllow),
      timeoutMs: c.notifyTimeoutMs,
      publicUrl: c.publicUrl,
    });
    if (values.json) console.log(JSON.stringify(results, null, 2));
    else {
      console.log(
        `address policy: as for deliveries (internal addresses refused${c.notifyAllow.length ? `; PUSHCI_NOTIFY_ALLOW=${c.notifyAllow.join(',')}` : '; allow some with PUSHCI_NOTIFY_ALLOW'})`,
      );
      for (const d of results)
        console.log(
          `${d.error ? '✘' : '✔'} ${d.type.padEnd(16)} ${d.webhook_id}  ${d.status ?? '-'} ${d.duration_ms} ms${d.error ? `  ${d.error}` : ''}`,
        );
    }
    return results.every((d) => d.error === null) ? 0 : 1;
  },
};
