/** Small builders for OpenAPI 3.1 fragments, so each operation in a route table reads as one line or two. */

/** A JSON Schema, or any fragment of the document: kept loose, the document is data. */
export type Json = Record<string, unknown>;

/** `$ref` to a schema under `components.schemas`. */
export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** A response or request body of JSON. */
export const json = (schema: unknown, description: string): Json => ({
  description,
  content: { 'application/json': { schema } },
});

/** A response or request body of another media type, a string. */
export const body = (type: string, description: string, format?: 'binary'): Json => ({
  description,
  content: { [type]: { schema: { type: 'string', ...(format ? { format } : {}) } } },
});

/** A `.tar.gz` (or other bytes) answer. */
export const gzip = (description: string): Json => body('application/gzip', description, 'binary');

/** An error answer: `{ "error": code, "message": text }`. */
export const error = (description: string): Json => json(ref('Error'), description);

const ERROR_TEXT: Record<number, string> = {
  400: 'Malformed',
  401: 'Unauthorized or bad signature',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  429: 'Too many failed authentications from this source (PUSHCI_RATE_LIMIT); Retry-After says when to try again',
  502: 'A repository pushci had to read did not answer (a Bitbucket pull request source, `repository_unavailable`): nothing stored; Retry-After says when to redeliver',
  503: 'Redis unavailable, or too many unverified bytes in flight (PUSHCI_MAX_INTAKE_BYTES): nothing stored',
};

/** Error answers with their usual descriptions, by status code. */
export const errors = (...codes: number[]): Json =>
  Object.fromEntries(codes.map((c) => [String(c), error(ERROR_TEXT[c] ?? 'Error')]));

/** An object schema with the given properties (all optional unless `required`). */
export const object = (properties: Json, required?: string[]): Json => ({
  type: 'object',
  ...(required ? { required } : {}),
  properties,
});

/** `{ "type": "object" }`: an answer whose shape the document does not spell out. */
export const anyObject = (description: string): Json => json({ type: 'object' }, description);

/** A string parameter in a header. */
export const header = (name: string, description: string, required = true): Json => ({
  name,
  in: 'header',
  required,
  schema: { type: 'string' },
  description,
});

/** A parameter of the query string (a string unless `schema` says otherwise). */
export const query = (name: string, schema: Json = { type: 'string' }, required = false): Json => ({
  name,
  in: 'query',
  ...(required ? { required } : {}),
  schema,
});

/** A parameter of the path: route tables add these from the path itself. */
export const pathParam = (name: string): Json => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
});
