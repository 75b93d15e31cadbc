import { z } from 'zod';
import { InvalidRequestError } from '../errors.ts';
import { OUTBOUND_EVENT_TYPES } from '../model.ts';
import { GlobSyntaxError, parseGlob } from '../pipelines/glob.ts';

/** The event types an endpoint may subscribe to (everything pushci publishes about builds). */
export const SUBSCRIBABLE_EVENTS: readonly string[] = OUTBOUND_EVENT_TYPES;

const time = z.iso.datetime();
const globList = (what: string) =>
  z
    .array(z.string().min(1).max(200))
    .max(50)
    .describe(
      `${what} (GitHub Actions glob dialect, evaluated in order; a leading ! excludes). Empty: every ${what === 'Pipelines' ? 'pipeline' : 'branch'}.`,
    );

const fields = {
  url: z.string().max(2048).describe('Where messages are POSTed (http or https).'),
  events: z
    .array(z.string())
    .min(1)
    .describe(`Event types to receive; default all of: ${SUBSCRIBABLE_EVENTS.join(', ')}.`),
  pipelines: globList('Pipelines'),
  branches: globList('Branches').describe(
    'Branches (GitHub Actions glob dialect; a leading ! excludes). Empty: every build; with a filter, tag builds are not sent.',
  ),
  description: z.string().max(500).describe('For people: who receives this and why.'),
  on_pause: z
    .enum(['keep', 'drop'])
    .describe(
      'While paused, keep messages and deliver them on resume (up to PUSHCI_ENDPOINT_PAUSE_RETENTION), or drop them.',
    ),
};

export const endpointCreateSchema = z
  .object({
    ...fields,
    events: fields.events.optional(),
    pipelines: fields.pipelines.optional(),
    branches: fields.branches.optional(),
    description: fields.description.optional(),
    on_pause: fields.on_pause.optional(),
    secret: z
      .string()
      .optional()
      .describe('A whsec_ secret of your own (24 to 64 random bytes in base64); default: one is generated.'),
  })
  .strict()
  .describe('A new endpoint.');

export const endpointPatchSchema = z
  .object({
    url: fields.url.optional(),
    events: fields.events.optional(),
    pipelines: fields.pipelines.optional(),
    branches: fields.branches.optional(),
    description: fields.description.optional(),
    on_pause: fields.on_pause.optional(),
  })
  .strict()
  .describe('The fields to change; the secret changes only through rotate-secret.');

export const endpointStatsSchema = z.object({
  attempts_24h: z.int(),
  success_rate_24h: z.number().nullable().describe('2xx answers / attempts in the last 24 hours (0 to 1).'),
  delivered: z.int().describe('Messages delivered, ever.'),
  failed: z.int().describe('Messages given up on, ever.'),
  last_success_at: time.nullable(),
  last_failure_at: time.nullable(),
  failing_since: time
    .nullable()
    .describe('Start of the current run of failures; the endpoint is disabled when it lasts long enough.'),
  circuit_open_until: time
    .nullable()
    .describe(
      "Set while the circuit breaker holds the endpoint's messages back (5 attempts in a row failed): they are kept in the queue, and one goes as a probe at this time; a 2xx sends the rest.",
    ),
});

export const endpointSchema = z
  .object({
    id: z.string(),
    source: z
      .enum(['api', 'pipeline', 'global'])
      .describe(
        'api: registered here; pipeline: a notify entry of a pipeline file; global: PUSHCI_NOTIFY_URLS.',
      ),
    pipeline: z.string().nullable().describe('The pipeline whose file declares it (source pipeline).'),
    url: z.string(),
    description: z.string(),
    events: z.array(z.string()),
    pipelines: z.array(z.string()),
    branches: z.array(z.string()),
    on_pause: fields.on_pause,
    state: z.enum(['active', 'paused', 'disabled']),
    state_reason: z.string().nullable(),
    state_changed_at: time.nullable(),
    previous_secret_valid_until: time
      .nullable()
      .describe('During a rotation: until when messages are signed with the previous secret too.'),
    created_at: time.nullable(),
    updated_at: time.nullable(),
    stats: endpointStatsSchema,
  })
  .describe('An endpoint, never with its secret.');

export type EndpointView = z.infer<typeof endpointSchema>;
export type EndpointStats = z.infer<typeof endpointStatsSchema>;
export type EndpointCreate = z.infer<typeof endpointCreateSchema>;
export type EndpointPatch = z.infer<typeof endpointPatchSchema>;

function problems(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
}

/** Checks what the schema cannot: known event types and glob syntax. */
function checkLists(body: {
  events?: string[] | undefined;
  pipelines?: string[] | undefined;
  branches?: string[] | undefined;
}): void {
  for (const e of body.events ?? [])
    if (!SUBSCRIBABLE_EVENTS.includes(e))
      throw new InvalidRequestError(
        `events: unknown event type "${e}"; pick from ${SUBSCRIBABLE_EVENTS.join(', ')} (GET /api/event-types)`,
      );
  for (const key of ['pipelines', 'branches'] as const)
    (body[key] ?? []).forEach((g, i) => {
      try {
        parseGlob(g);
      } catch (err) {
        if (err instanceof GlobSyntaxError)
          throw new InvalidRequestError(
            `${key}.${i}: "${g}": ${err.message} (at character ${err.offset + 1})`,
          );
        throw err;
      }
    });
}

/** A create request, validated; throws InvalidRequestError naming every problem. */
export function parseCreate(body: unknown): EndpointCreate {
  const r = endpointCreateSchema.safeParse(body);
  if (!r.success) throw new InvalidRequestError(problems(r.error));
  checkLists(r.data);
  return r.data;
}

/** A patch request, validated. */
export function parsePatch(body: unknown): EndpointPatch {
  const r = endpointPatchSchema.safeParse(body);
  if (!r.success) throw new InvalidRequestError(problems(r.error));
  checkLists(r.data);
  return r.data;
}
