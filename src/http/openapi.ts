import { buildSchema, jobSchema, jsonSchema } from '../notify/payloads.ts';
import { API_ROUTES } from './api-routes.ts';
import { API_SURFACE } from './api-surface.ts';
import { JOB_CREDENTIAL_SCHEME, artifactSchemas } from './artifacts-openapi.ts';
import { endpointSchemas } from './endpoints-openapi.ts';
import { JOB_ROUTES } from './job-routes.ts';
import { JOB_SURFACE } from './job-surface.ts';
import { outboundSchemas, outboundWebhooks } from './openapi/outbound.ts';
import { object } from './openapi/parts.ts';
import { webhookPaths } from './openapi/webhook-paths.ts';
import { openApiPaths } from './route.ts';
import { SITE_ROUTES, SITE_SURFACE } from './site-routes.ts';

const str = { type: 'string' };

/**
 * The OpenAPI 3.1 document: inbound endpoints and the API under `paths` (built from the route tables the
 * routers are built from), and every outbound message under `webhooks`, with the payload schemas the
 * server itself uses.
 */
export function openApiDocument(publicUrl: string, version: string): Record<string, unknown> {
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
      ...openApiPaths(API_SURFACE, API_ROUTES),
      ...openApiPaths(JOB_SURFACE, JOB_ROUTES),
      ...openApiPaths(SITE_SURFACE, SITE_ROUTES),
    },
    webhooks: outboundWebhooks(),
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
        Error: object({ error: str, message: str }, ['error', 'message']),
        WebhookAccepted: object(
          {
            builds: {
              type: 'array',
              items: object({ id: str, pipeline: str, number: { type: 'integer' }, status: str, url: str }, [
                'id',
                'pipeline',
                'url',
              ]),
            },
            reason: str,
          },
          ['builds'],
        ),
        ...outboundSchemas(),
      },
    },
  };
}
