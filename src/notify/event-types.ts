import { z } from 'zod';
import { OUTBOUND_EVENT_TYPES } from '../model.ts';
import { buildSchema, jobSchema, jsonSchema } from './payloads.ts';

const DESCRIPTIONS: Record<string, string> = {
  'build.queued': 'A build was created and waits for a worker (or was skipped: then only build.completed).',
  'build.started': 'The first job of a build started.',
  'job.completed': 'One job finished; `data.job` is that job.',
  'build.completed': 'A build finished: success, failure, error, canceled or skipped.',
  'endpoint.disabled':
    'A registered endpoint was disabled (it answered 410 Gone, or failed for PUSHCI_ENDPOINT_DISABLE_AFTER). Sent to PUSHCI_NOTIFY_URLS only.',
};

const envelope = (type: string, data: z.ZodType) =>
  z.object({ type: z.literal(type), timestamp: z.iso.datetime(), data });

export const endpointDisabledSchema = envelope(
  'endpoint.disabled',
  z.object({
    endpoint: z.object({ id: z.string(), url: z.string(), description: z.string() }),
    reason: z.string(),
    failing_since: z.iso.datetime().nullable(),
    disabled_at: z.iso.datetime(),
  }),
).describe(DESCRIPTIONS['endpoint.disabled']!);

/** The message schema of one build event type. */
export function buildEventSchema(type: string): z.ZodType {
  return envelope(
    type,
    type === 'job.completed'
      ? z.object({ build: buildSchema, job: jobSchema })
      : z.object({ build: buildSchema }),
  ).describe(DESCRIPTIONS[type] ?? type);
}

export interface EventType {
  name: string;
  description: string;
  /** `subscribers`: any endpoint may subscribe; `operator`: only PUSHCI_NOTIFY_URLS receive it. */
  audience: 'subscribers' | 'operator';
  /** JSON Schema (2020-12) of the whole message body. */
  schema: Record<string, unknown>;
}

/** Every message type pushci sends, with its JSON Schema: `GET /api/event-types`. */
export function eventTypes(): EventType[] {
  return [
    ...OUTBOUND_EVENT_TYPES.map((name) => ({
      name,
      description: DESCRIPTIONS[name] ?? name,
      audience: 'subscribers' as const,
      schema: jsonSchema(buildEventSchema(name)),
    })),
    {
      name: 'endpoint.disabled',
      description: DESCRIPTIONS['endpoint.disabled']!,
      audience: 'operator',
      schema: jsonSchema(endpointDisabledSchema),
    },
  ];
}
