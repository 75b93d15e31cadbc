import {
  endpointCreateSchema,
  endpointPatchSchema,
  endpointSchema,
  endpointStatsSchema,
} from '../notify/endpoint-schema.ts';
import { endpointDisabledSchema } from '../notify/event-types.ts';
import { jsonSchema } from '../notify/payloads.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const error = (description: string) => json(ref('Error'), description);
const errors = {
  '400': error('Invalid: the message says what and why (an internal address, an unknown event type, ...)'),
  '401': error('No or wrong credential'),
  '403': error('Forbidden'),
  '404': error('No such endpoint'),
};
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const security = [{ bearer: [] }];
const secretResponse = {
  type: 'object',
  required: ['secret'],
  properties: { secret: { type: 'string', description: 'whsec_ secret: shown only in this answer.' } },
};

/** The OpenAPI components the endpoints API uses. */
export function endpointSchemas(): Record<string, unknown> {
  return {
    Endpoint: jsonSchema(endpointSchema),
    EndpointCreate: jsonSchema(endpointCreateSchema),
    EndpointPatch: jsonSchema(endpointPatchSchema),
    EndpointStats: jsonSchema(endpointStatsSchema),
    EndpointDisabled: jsonSchema(endpointDisabledSchema),
  };
}

/** The OpenAPI paths of `/api/endpoints` and `/api/event-types`. */
export function endpointPaths(): Record<string, unknown> {
  const action = (summary: string, code: string, body?: unknown) => ({
    post: {
      summary,
      security,
      parameters: [id],
      ...(body ? { requestBody: { content: { 'application/json': { schema: body } } } } : {}),
      responses: {
        [code]: json(ref('Endpoint'), 'The endpoint afterwards'),
        ...errors,
        '409': error('Conflict'),
      },
    },
  });
  return {
    '/api/event-types': {
      get: {
        summary: 'Every message type pushci sends, with the JSON Schema of its body',
        security,
        responses: {
          '200': json({ type: 'object' }, '{"event_types": [{name, description, audience, schema}]}'),
          '401': errors['401'],
          '403': errors['403'],
        },
      },
    },
    '/api/endpoints': {
      post: {
        summary: 'Register an endpoint; the answer carries its secret, shown only this once',
        security,
        requestBody: { required: true, content: { 'application/json': { schema: ref('EndpointCreate') } } },
        responses: {
          '201': json({ allOf: [ref('Endpoint'), secretResponse] }, 'Registered'),
          ...errors,
        },
      },
      get: {
        summary: 'Every endpoint: registered, from pipeline files and PUSHCI_NOTIFY_URLS',
        security,
        parameters: [{ name: 'source', in: 'query', schema: { enum: ['api', 'pipeline', 'global'] } }],
        responses: {
          '200': json(
            { type: 'object', properties: { endpoints: { type: 'array', items: ref('Endpoint') } } },
            'Endpoints',
          ),
          ...errors,
        },
      },
    },
    '/api/endpoints/{id}': {
      get: {
        summary: 'One endpoint (never its secret)',
        security,
        parameters: [id],
        responses: { '200': json(ref('Endpoint'), 'The endpoint'), ...errors },
      },
      patch: {
        summary: 'Change a registered endpoint',
        security,
        parameters: [id],
        requestBody: { required: true, content: { 'application/json': { schema: ref('EndpointPatch') } } },
        responses: {
          '200': json(ref('Endpoint'), 'Changed'),
          ...errors,
          '409': error('Declared in configuration'),
        },
      },
      delete: {
        summary: 'Delete a registered endpoint',
        security,
        parameters: [id],
        responses: {
          '204': { description: 'Deleted' },
          ...errors,
          '409': error('Declared in configuration'),
        },
      },
    },
    '/api/endpoints/{id}/rotate-secret': {
      post: {
        summary:
          'A new secret; the previous one keeps signing for the overlap (default PUSHCI_ENDPOINT_ROTATION_OVERLAP)',
        security,
        parameters: [id],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  overlap: { type: 'string', description: 'A duration: 24h, 30m, 0.' },
                  secret: { type: 'string', description: 'Your own whsec_ secret (default: generated).' },
                },
              },
            },
          },
        },
        responses: {
          '200': json(
            {
              type: 'object',
              properties: {
                id: { type: 'string' },
                secret: { type: 'string' },
                previous_secret_valid_until: { type: 'string', format: 'date-time' },
              },
            },
            'The new secret, shown only here',
          ),
          ...errors,
        },
      },
    },
    '/api/endpoints/{id}/pause': action('Pause: messages are held (on_pause keep) or dropped', '200', {
      type: 'object',
      properties: { on_pause: { enum: ['keep', 'drop'] } },
    }),
    '/api/endpoints/{id}/resume': action('Resume (or re-enable): held messages are sent now', '200'),
    '/api/endpoints/{id}/enable': action('Re-enable a disabled endpoint of any kind', '200'),
    '/api/endpoints/{id}/test': {
      post: {
        summary: 'Send one example message through the queue (it shows in the delivery log)',
        security,
        parameters: [id],
        requestBody: {
          content: {
            'application/json': { schema: { type: 'object', properties: { type: { type: 'string' } } } },
          },
        },
        responses: { '202': json({ type: 'object' }, '{"id": webhook-id}'), ...errors },
      },
    },
    '/api/endpoints/{id}/deliveries': {
      get: {
        summary: 'The endpoint’s deliveries, newest first, with every attempt',
        security,
        parameters: [
          id,
          ...['type', 'state', 'before', 'limit'].map((name) => ({
            name,
            in: 'query',
            schema: { type: 'string' },
          })),
        ],
        responses: { '200': json({ type: 'object' }, '{"deliveries": [...], "next": cursor}'), ...errors },
      },
    },
    '/api/endpoints/{id}/stats': {
      get: {
        summary: 'Counters, success rate and the last 24 hours, hour by hour',
        security,
        parameters: [id],
        responses: { '200': json({ type: 'object' }, 'Stats'), ...errors },
      },
    },
    '/api/endpoints/{id}/redeliver': {
      post: {
        summary: 'Send every failed (or dropped) message since a time again',
        security,
        parameters: [id],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['since'],
                properties: {
                  since: { type: 'string', description: 'ISO 8601 time, or a duration back: 2h.' },
                },
              },
            },
          },
        },
        responses: { '202': json({ type: 'object' }, '{"redelivering": n}'), ...errors },
      },
    },
  };
}
