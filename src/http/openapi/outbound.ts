import { OUTBOUND_EVENT_TYPES } from '../../model.ts';
import { header, object, ref, type Json } from './parts.ts';

const signed = [
  header('webhook-id', 'Message id, the same on every retry: de-duplicate on it.'),
  header('webhook-timestamp', 'Unix seconds of this attempt.'),
  header('webhook-signature', 'Space-separated `v1,<base64 HMAC-SHA256>` of `<id>.<timestamp>.<body>`.'),
];

/** One outbound message, signed per Standard Webhooks, its body the named schema. */
const message = (summary: string, schema: string, received: string) => ({
  post: {
    summary,
    parameters: signed,
    requestBody: { required: true, content: { 'application/json': { schema: ref(schema) } } },
    responses: { '2XX': { description: received } },
  },
});

/** `build.completed` → `BuildCompleted`: the schema name of a message type. */
const schemaName = (type: string) =>
  type
    .split('.')
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');

/** The OpenAPI `webhooks`: every message pushci sends. */
export function outboundWebhooks(): Record<string, Json> {
  return {
    ...Object.fromEntries(
      OUTBOUND_EVENT_TYPES.map((t) => [
        t,
        message(
          `${t}, signed per Standard Webhooks`,
          schemaName(t),
          'Received; anything else is retried (410 disables the endpoint).',
        ),
      ]),
    ),
    'endpoint.disabled': message(
      'endpoint.disabled, to PUSHCI_NOTIFY_URLS only, signed per Standard Webhooks',
      'EndpointDisabled',
      'Received',
    ),
  };
}

/** The body schemas of the build and job messages, by schema name. */
export function outboundSchemas(): Record<string, Json> {
  const event = (type: string, withJob: boolean) =>
    object(
      {
        type: { const: type },
        timestamp: { type: 'string', format: 'date-time' },
        data: object(
          { build: ref('Build'), ...(withJob ? { job: ref('Job') } : {}) },
          withJob ? ['build', 'job'] : ['build'],
        ),
      },
      ['type', 'timestamp', 'data'],
    );
  return Object.fromEntries(
    OUTBOUND_EVENT_TYPES.map((t) => [schemaName(t), event(t, t === 'job.completed')]),
  );
}
