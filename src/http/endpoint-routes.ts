import type { ApiRoute } from './api-surface.ts';
import { testEndpoint } from './endpoint-test.ts';
import type { endpointHandlers } from './endpoints.ts';
import { anyObject, error, errors, json, object, query, ref, type Json } from './openapi/parts.ts';
import type { Operation } from './route.ts';

const endpointErrors = {
  '400': error('Invalid: the message says what and why (an internal address, an unknown event type, ...)'),
  '404': error('No such endpoint'),
};
const declared = { '409': error('Declared in configuration') };
const secretResponse = object(
  { secret: { type: 'string', description: 'whsec_ secret: shown only in this answer.' } },
  ['secret'],
);
const jsonBody = (schema: Json, required = false) => ({
  ...(required ? { required } : {}),
  content: { 'application/json': { schema } },
});

/** `POST /endpoints/:id/<verb>`: a change of state that answers with the endpoint afterwards. */
const action = (summary: string, schema?: Json): Operation => ({
  summary,
  ...(schema ? { requestBody: jsonBody(schema) } : {}),
  responses: {
    '200': json(ref('Endpoint'), 'The endpoint afterwards'),
    ...endpointErrors,
    ...errors(409),
  },
});

type Handlers = ReturnType<typeof endpointHandlers>;
const row = (method: ApiRoute['method'], path: string, pick: keyof Handlers, doc: Operation): ApiRoute => ({
  method,
  path,
  handler: ({ endpoints }) => endpoints[pick],
  doc,
});

/** `/endpoints` (outbound receivers) and `/event-types`, in the order Koa matches them. */
export const ENDPOINT_ROUTES: readonly ApiRoute[] = [
  {
    method: 'post',
    path: '/endpoints/test',
    handler: ({ deps }) => testEndpoint(deps.config),
    doc: {
      summary: 'Send a signed example of every event type to a receiver',
      requestBody: json(
        object({ url: { type: 'string' }, secret: { type: ['string', 'array'] } }, ['url', 'secret']),
        'Receiver and whsec_ secret',
      ),
      responses: { '200': anyObject('What each attempt got'), ...errors(400) },
    },
  },
  row('get', '/event-types', 'eventTypes', {
    summary: 'Every message type pushci sends, with the JSON Schema of its body',
    responses: { '200': anyObject('{"event_types": [{name, description, audience, schema}]}') },
  }),
  row('post', '/endpoints', 'create', {
    summary: 'Register an endpoint; the answer carries its secret, shown only this once',
    requestBody: jsonBody(ref('EndpointCreate'), true),
    responses: {
      '201': json({ allOf: [ref('Endpoint'), secretResponse] }, 'Registered'),
      ...endpointErrors,
    },
  }),
  row('get', '/endpoints', 'list', {
    summary: 'Every endpoint: registered, from pipeline files and PUSHCI_NOTIFY_URLS',
    parameters: [query('source', { enum: ['api', 'pipeline', 'global'] })],
    responses: {
      '200': json(object({ endpoints: { type: 'array', items: ref('Endpoint') } }), 'Endpoints'),
      ...endpointErrors,
    },
  }),
  row('get', '/endpoints/:id', 'get', {
    summary: 'One endpoint (never its secret)',
    responses: { '200': json(ref('Endpoint'), 'The endpoint'), ...endpointErrors },
  }),
  row('patch', '/endpoints/:id', 'update', {
    summary: 'Change a registered endpoint',
    requestBody: jsonBody(ref('EndpointPatch'), true),
    responses: { '200': json(ref('Endpoint'), 'Changed'), ...endpointErrors, ...declared },
  }),
  row('delete', '/endpoints/:id', 'remove', {
    summary: 'Delete a registered endpoint',
    responses: { '204': { description: 'Deleted' }, ...endpointErrors, ...declared },
  }),
  row('post', '/endpoints/:id/rotate-secret', 'rotate', {
    summary:
      'A new secret; the previous one keeps signing for the overlap (default PUSHCI_ENDPOINT_ROTATION_OVERLAP)',
    requestBody: jsonBody(
      object({
        overlap: { type: 'string', description: 'A duration: 24h, 30m, 0.' },
        secret: { type: 'string', description: 'Your own whsec_ secret (default: generated).' },
      }),
    ),
    responses: {
      '200': json(
        object({
          id: { type: 'string' },
          secret: { type: 'string' },
          previous_secret_valid_until: { type: 'string', format: 'date-time' },
        }),
        'The new secret, shown only here',
      ),
      ...endpointErrors,
    },
  }),
  row(
    'post',
    '/endpoints/:id/pause',
    'pause',
    action(
      'Pause: messages are held (on_pause keep) or dropped',
      object({ on_pause: { enum: ['keep', 'drop'] } }),
    ),
  ),
  row('post', '/endpoints/:id/resume', 'resume', action('Resume (or re-enable): held messages are sent now')),
  row('post', '/endpoints/:id/enable', 'enable', action('Re-enable a disabled endpoint of any kind')),
  row('post', '/endpoints/:id/test', 'test', {
    summary: 'Send one example message through the queue (it shows in the delivery log)',
    requestBody: jsonBody(object({ type: { type: 'string' } })),
    responses: { '202': anyObject('{"id": webhook-id}'), ...endpointErrors },
  }),
  row('get', '/endpoints/:id/deliveries', 'deliveries', {
    summary: 'The endpoint’s deliveries, newest first, with every attempt',
    parameters: ['type', 'state', 'before', 'limit'].map((name) => query(name)),
    responses: { '200': anyObject('{"deliveries": [...], "next": cursor}'), ...endpointErrors },
  }),
  row('get', '/endpoints/:id/stats', 'stats', {
    summary: 'Counters, success rate and the last 24 hours, hour by hour',
    responses: { '200': anyObject('Stats'), ...endpointErrors },
  }),
  row('post', '/endpoints/:id/redeliver', 'redeliverFailed', {
    summary: 'Send every failed (or dropped) message since a time again',
    requestBody: jsonBody(
      object({ since: { type: 'string', description: 'ISO 8601 time, or a duration back: 2h.' } }, ['since']),
      true,
    ),
    responses: { '202': anyObject('{"redelivering": n}'), ...endpointErrors },
  }),
];
