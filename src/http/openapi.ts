import { EVENT_KINDS } from '../core/event.ts';
import { FORGE_LIST } from '../forges/registry.ts';
import { BUILD_STATUSES, OUTBOUND_EVENT_TYPES } from '../model.ts';
import { buildSchema, jobSchema, jsonSchema } from '../notify/payloads.ts';
import { endpointPaths, endpointSchemas } from './endpoints-openapi.ts';
import { JOB_CREDENTIAL_SCHEME, artifactPaths, artifactSchemas } from './artifacts-openapi.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      json(
        ref('Error'),
        {
          400: 'Malformed',
          401: 'Unauthorized or bad signature',
          403: 'Forbidden',
          404: 'Not found',
          409: 'Conflict',
          413: 'Too large',
          429: 'Too many failed authentications from this source (PUSHCI_RATE_LIMIT); Retry-After says when to try again',
          502: 'A repository pushci had to read did not answer (a Bitbucket pull request source, `repository_unavailable`): nothing stored; Retry-After says when to redeliver',
          503: 'Redis unavailable, or too many unverified bytes in flight (PUSHCI_MAX_INTAKE_BYTES): nothing stored',
        }[c] ?? 'Error',
      ),
    ]),
  );
const header = (name: string, description: string, required = true) => ({
  name,
  in: 'header',
  required,
  schema: { type: 'string' },
  description,
});
const path = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });

const webhookResponses = {
  '202': json(
    ref('WebhookAccepted'),
    'Builds stored in Redis (or, with an empty list, an event that was ignored).',
  ),
  '200': json(
    ref('WebhookAccepted'),
    'Valid, but nothing to build (no pipeline matches, a deletion, a ping, or a Bitbucket pull request whose source branch moved on), or a duplicate (`duplicate: true`).',
  ),
  ...errors(400, 401, 404, 413, 429, 502, 503),
};

/** `POST /webhooks/<name>` of every forge in the registry. */
function webhookPaths(): Record<string, unknown> {
  return Object.fromEntries(
    FORGE_LIST.map((f) => [
      `/webhooks/${f.name}`,
      {
        post: {
          summary: f.webhookDoc.summary,
          parameters: f.webhookDoc.headers.map((h) => header(h.name, h.description, h.required ?? true)),
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { type: 'object' } },
              ...(f.webhookDoc.formBody
                ? {
                    'application/x-www-form-urlencoded': {
                      schema: { type: 'object', properties: { payload: { type: 'string' } } },
                    },
                  }
                : {}),
            },
          },
          responses: webhookResponses,
        },
      },
    ]),
  );
}

/**
 * The OpenAPI 3.1 document: inbound endpoints and the API under `paths`, and every outbound message under
 * `webhooks`, with the payload schemas the server itself uses.
 */
export function openApiDocument(publicUrl: string, version: string): Record<string, unknown> {
  const event = (type: string, withJob: boolean) => ({
    type: 'object',
    required: ['type', 'timestamp', 'data'],
    properties: {
      type: { const: type },
      timestamp: { type: 'string', format: 'date-time' },
      data: {
        type: 'object',
        required: withJob ? ['build', 'job'] : ['build'],
        properties: { build: ref('Build'), ...(withJob ? { job: ref('Job') } : {}) },
      },
    },
  });
  const eventName = (t: string) =>
    t
      .split('.')
      .map((p) => p[0]!.toUpperCase() + p.slice(1))
      .join('');
  return {
    openapi: '3.1.0',
    info: {
      title: 'pushci',
      version,
      description: 'Signed push webhooks in, builds on BullMQ, signed Standard Webhooks out.',
    },
    servers: [{ url: publicUrl }],
    paths: {
      ...webhookPaths(),
      '/api/builds': {
        get: {
          summary: 'Builds, newest first, filtered, with cursor pagination',
          security: [{ bearer: [] }],
          parameters: ['pipeline', 'repository', 'branch', 'event', 'status', 'limit', 'cursor'].map(
            (name) => ({
              name,
              in: 'query',
              schema:
                name === 'event'
                  ? { type: 'string', enum: [...EVENT_KINDS] }
                  : name === 'status'
                    ? { type: 'string', enum: [...BUILD_STATUSES] }
                    : { type: 'string' },
            }),
          ),
          responses: {
            '200': json(
              {
                type: 'object',
                required: ['builds', 'next'],
                properties: {
                  builds: { type: 'array', items: ref('Build') },
                  next: { type: ['string', 'null'] },
                },
              },
              'A page of builds',
            ),
            ...errors(400, 401, 403),
          },
        },
      },
      '/api/pipelines': {
        get: {
          summary:
            'The pipelines in force (a broken file at its last good version), every file with its state and problems',
          security: [{ bearer: [] }],
          responses: { '200': json({ type: 'object' }, 'Pipelines'), ...errors(401, 403) },
        },
      },
      '/api/events': {
        get: {
          summary:
            'Server-Sent Events: every build change (event "build", data {type, id, pipeline, number, status, job?})',
          security: [{ bearer: [] }],
          responses: {
            '200': {
              description: 'An event stream',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...errors(401, 403),
          },
        },
      },
      '/api/endpoints/test': {
        post: {
          summary: 'Send a signed example of every event type to a receiver',
          security: [{ bearer: [] }],
          requestBody: json(
            {
              type: 'object',
              required: ['url', 'secret'],
              properties: { url: { type: 'string' }, secret: { type: ['string', 'array'] } },
            },
            'Receiver and whsec_ secret',
          ),
          responses: { '200': json({ type: 'object' }, 'What each attempt got'), ...errors(400, 401, 403) },
        },
      },
      '/badge/{pipeline}.svg': {
        get: {
          summary: "Status badge of the pipeline's last finished build",
          parameters: [path('pipeline'), { name: 'branch', in: 'query', schema: { type: 'string' } }],
          responses: {
            '200': { description: 'SVG', content: { 'image/svg+xml': { schema: { type: 'string' } } } },
            '304': { description: 'Not modified' },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: {
            '200': {
              description: 'Text exposition format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      '/login': {
        post: {
          summary: 'Dashboard login: checks the API token and sets an HttpOnly cookie',
          requestBody: json({ type: 'object', properties: { token: { type: 'string' } } }, 'The token'),
          responses: { '200': json({ type: 'object' }, 'Logged in'), ...errors(400, 401) },
        },
      },
      '/api/builds/{id}': {
        get: {
          summary: 'One build',
          security: [{ bearer: [] }],
          parameters: [path('id')],
          responses: { '200': json(ref('Build'), 'The build'), ...errors(401, 403, 404) },
        },
      },
      '/api/builds/{id}/jobs/{job}/log': {
        get: {
          summary: 'A job log as text; ?follow=1 streams until the job ends',
          security: [{ bearer: [] }],
          parameters: [
            path('id'),
            path('job'),
            { name: 'follow', in: 'query', schema: { type: 'string', enum: ['1', 'true'] } },
          ],
          responses: {
            '200': { description: 'Log lines', content: { 'text/plain': { schema: { type: 'string' } } } },
            ...errors(401, 403, 404),
          },
        },
      },
      '/api/builds/{id}/cancel': {
        post: {
          summary: 'Cancel a build',
          security: [{ bearer: [] }],
          parameters: [path('id')],
          responses: { '202': json({ type: 'object' }, 'Cancelling'), ...errors(401, 403, 404, 409) },
        },
      },
      '/api/builds/{id}/approve': {
        post: {
          summary:
            'Let a pull request from a fork run (its build waits as pending-approval); records who and when. It still gets no secrets. 409 unless the build is pending-approval.',
          security: [{ bearer: [] }],
          parameters: [path('id')],
          requestBody: json(
            {
              type: 'object',
              properties: { by: { type: 'string', description: 'Who approves (default "api").' } },
            },
            'Who approves',
          ),
          responses: {
            '202': json(
              {
                type: 'object',
                properties: {
                  id: { type: 'string' },
                  status: { type: 'string' },
                  approval: {
                    type: 'object',
                    properties: { by: { type: 'string' }, at: { type: 'string' } },
                  },
                },
              },
              'Approved: the build is queued',
            ),
            ...errors(400, 401, 403, 404, 409),
          },
        },
      },
      '/api/builds/{id}/rerun': {
        post: {
          summary: 'A new build of the same commit',
          security: [{ bearer: [] }],
          parameters: [path('id')],
          responses: { '202': json(ref('WebhookAccepted'), 'Created'), ...errors(401, 403, 404, 409) },
        },
      },
      '/api/builds/{id}/rerun-failed': {
        post: {
          summary:
            'Re-run the failed jobs: a new build of the same commit and pipeline version where the failed, errored and canceled jobs and those that need them run again, and the others keep their results, outputs and logs (409 when nothing failed or the build is not finished)',
          security: [{ bearer: [] }],
          parameters: [path('id')],
          responses: { '202': json(ref('WebhookAccepted'), 'Created'), ...errors(401, 403, 404, 409) },
        },
      },
      '/api/pipelines/{name}/trigger': {
        post: {
          summary: 'A manual build',
          security: [{ bearer: [] }],
          parameters: [path('name')],
          requestBody: json(
            {
              type: 'object',
              properties: {
                branch: { type: 'string' },
                tag: { type: 'string' },
                sha: { type: 'string' },
                repository: { type: 'string' },
                inputs: {
                  type: 'object',
                  additionalProperties: { type: ['string', 'number', 'boolean'] },
                  description:
                    'Values for the pipeline’s on.workflow_dispatch.inputs; checked by type, every problem in one 400',
                },
              },
            },
            'Exactly one of branch and tag',
          ),
          responses: { '202': json(ref('WebhookAccepted'), 'Created'), ...errors(400, 401, 403, 404) },
        },
      },
      '/api/webhooks': {
        get: {
          summary:
            'Received webhooks, newest first: forge, event, delivery id, answer, and which pipelines matched or not and why (no payload is kept)',
          security: [{ bearer: [] }],
          parameters: ['limit', 'before'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
          responses: {
            '200': json({ type: 'object' }, 'A page of received webhooks'),
            ...errors(400, 401, 403),
          },
        },
      },
      '/api/workers': {
        get: {
          summary:
            'The worker processes alive now (a heartbeat every 5 s): host, pid, labels, concurrency, the jobs each runs, last heartbeat',
          security: [{ bearer: [] }],
          responses: { '200': json({ type: 'object' }, 'Workers'), ...errors(401, 403) },
        },
      },
      '/api/webhooks/{id}': {
        get: {
          summary: 'One received webhook, by the X-Request-Id pushci answered it with',
          security: [{ bearer: [] }],
          parameters: [path('id')],
          responses: { '200': json({ type: 'object' }, 'Received webhook'), ...errors(401, 403, 404) },
        },
      },
      '/api/deliveries': {
        get: {
          summary: 'Outbound deliveries of a build, with their attempts',
          security: [{ bearer: [] }],
          parameters: [{ name: 'build', in: 'query', required: true, schema: { type: 'string' } }],
          responses: { '200': json({ type: 'object' }, 'Deliveries'), ...errors(400, 401, 403) },
        },
      },
      '/api/deliveries/{id}': {
        get: {
          summary: 'One delivery and its attempts',
          security: [{ bearer: [] }],
          parameters: [path('id')],
          responses: { '200': json({ type: 'object' }, 'Delivery'), ...errors(401, 403, 404) },
        },
      },
      '/api/deliveries/{id}/redeliver': {
        post: {
          summary: 'Send a delivery again (same webhook-id)',
          security: [{ bearer: [] }],
          parameters: [path('id')],
          responses: { '202': json({ type: 'object' }, 'Queued'), ...errors(401, 403, 404, 409) },
        },
      },
      ...endpointPaths(),
      ...artifactPaths(),
      '/healthz': {
        get: { summary: 'The process is up', responses: { '200': json({ type: 'object' }, 'Up') } },
      },
      '/readyz': {
        get: {
          summary: 'Redis reachable and pipelines loaded',
          responses: {
            '200': json({ type: 'object' }, 'Ready'),
            '503': json({ type: 'object' }, 'Not ready'),
          },
        },
      },
      '/schema/pipeline.json': {
        get: {
          summary: 'JSON Schema of pipeline files',
          responses: { '200': json({ type: 'object' }, 'Schema') },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1') } },
      },
    },
    webhooks: {
      ...Object.fromEntries(
        OUTBOUND_EVENT_TYPES.map((t) => [
          t,
          {
            post: {
              summary: `${t}, signed per Standard Webhooks`,
              parameters: [
                header('webhook-id', 'Message id, the same on every retry: de-duplicate on it.'),
                header('webhook-timestamp', 'Unix seconds of this attempt.'),
                header(
                  'webhook-signature',
                  'Space-separated `v1,<base64 HMAC-SHA256>` of `<id>.<timestamp>.<body>`.',
                ),
              ],
              requestBody: { required: true, content: { 'application/json': { schema: ref(eventName(t)) } } },
              responses: {
                '2XX': { description: 'Received; anything else is retried (410 disables the endpoint).' },
              },
            },
          },
        ]),
      ),
      'endpoint.disabled': {
        post: {
          summary: 'endpoint.disabled, to PUSHCI_NOTIFY_URLS only, signed per Standard Webhooks',
          parameters: [
            header('webhook-id', 'Message id, the same on every retry: de-duplicate on it.'),
            header('webhook-timestamp', 'Unix seconds of this attempt.'),
            header(
              'webhook-signature',
              'Space-separated `v1,<base64 HMAC-SHA256>` of `<id>.<timestamp>.<body>`.',
            ),
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref('EndpointDisabled') } },
          },
          responses: { '2XX': { description: 'Received' } },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'PUSHCI_API_TOKEN' },
        jobCredential: JOB_CREDENTIAL_SCHEME,
      },
      schemas: {
        ...endpointSchemas(),
        ...artifactSchemas(),
        Build: jsonSchema(buildSchema),
        Job: jsonSchema(jobSchema),
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: { error: { type: 'string' }, message: { type: 'string' } },
        },
        WebhookAccepted: {
          type: 'object',
          required: ['builds'],
          properties: {
            builds: {
              type: 'array',
              items: {
                type: 'object',
                required: ['id', 'pipeline', 'url'],
                properties: {
                  id: { type: 'string' },
                  pipeline: { type: 'string' },
                  number: { type: 'integer' },
                  status: { type: 'string' },
                  url: { type: 'string' },
                },
              },
            },
            reason: { type: 'string' },
          },
        },
        ...Object.fromEntries(
          OUTBOUND_EVENT_TYPES.map((t) => [eventName(t), event(t, t === 'job.completed')]),
        ),
      },
    },
  };
}
