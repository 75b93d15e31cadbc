import {
  endpointCreateSchema,
  endpointPatchSchema,
  endpointSchema,
  endpointStatsSchema,
} from '../notify/endpoint-schema.ts';
import { endpointDisabledSchema } from '../notify/event-types.ts';
import { jsonSchema } from '../notify/payloads.ts';

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
