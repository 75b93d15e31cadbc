import { FORGE_LIST } from '../../forges/registry.ts';
import { errors, header, json, ref, type Json } from './parts.ts';

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

/**
 * `POST /webhooks/<name>` of every forge in the registry: the route webhook-route.ts serves on node:http
 * for each name the registry knows.
 */
export function webhookPaths(): Record<string, Json> {
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
