import { listWorkers } from '../queue/worker-heartbeat.ts';
import type { ApiRoute } from './api-surface.ts';
import { getDelivery, listDeliveries, redeliver } from './deliveries.ts';
import { anyObject, errors, query } from './openapi/parts.ts';
import { getWebhook, listWebhooks } from './webhook-records.ts';

/** What pushci keeps a record of: the webhooks it received, the workers alive, the deliveries it sent. */
export const RECORD_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/webhooks',
    handler: ({ webhookLog }) => listWebhooks(webhookLog),
    doc: {
      summary:
        'Received webhooks, newest first: forge, event, delivery id, answer, and which pipelines matched or not and why (no payload is kept)',
      parameters: [query('limit'), query('before')],
      responses: { '200': anyObject('A page of received webhooks'), ...errors(400) },
    },
  },
  {
    method: 'get',
    path: '/workers',
    handler:
      ({ deps }) =>
      async (ctx) => {
        ctx.body = { workers: await listWorkers(deps.redis, deps.keys) };
      },
    doc: {
      summary:
        'The worker processes alive now (a heartbeat every 5 s): host, pid, labels, concurrency, the jobs each runs, last heartbeat',
      responses: { '200': anyObject('Workers') },
    },
  },
  {
    method: 'get',
    path: '/webhooks/:id',
    handler: ({ webhookLog }) => getWebhook(webhookLog),
    doc: {
      summary: 'One received webhook, by the X-Request-Id pushci answered it with',
      responses: { '200': anyObject('Received webhook'), ...errors(404) },
    },
  },
  {
    method: 'get',
    path: '/deliveries',
    handler: ({ deps }) => listDeliveries(deps),
    doc: {
      summary: 'Outbound deliveries of a build, with their attempts',
      parameters: [query('build', { type: 'string' }, true)],
      responses: { '200': anyObject('Deliveries'), ...errors(400) },
    },
  },
  {
    method: 'get',
    path: '/deliveries/:id',
    handler: ({ deps }) => getDelivery(deps),
    doc: {
      summary: 'One delivery and its attempts',
      responses: { '200': anyObject('Delivery'), ...errors(404) },
    },
  },
  {
    method: 'post',
    path: '/deliveries/:id/redeliver',
    handler: ({ deps }) => redeliver(deps),
    doc: {
      summary: 'Send a delivery again (same webhook-id)',
      responses: { '202': anyObject('Queued'), ...errors(404, 409) },
    },
  },
];
