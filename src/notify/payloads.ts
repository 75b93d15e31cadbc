import { z } from 'zod';
import { EVENT_KINDS, PULL_REQUEST_ACTIONS } from '../core/event.ts';
import { BUILD_STATUSES, JOB_STATUSES } from '../core/states.ts';
import { FORGES, type BuildView, type JobView } from '../model.ts';

/** The outbound payload's parts as schemas: published in the OpenAPI document, checked against the types below. */
const status = z.enum(BUILD_STATUSES);
const time = z.iso.datetime();

export const jobSchema = z
  .object({
    name: z
      .string()
      .describe('The job id; a matrix combination’s is its key plus its values (test-20-ubuntu-latest).'),
    display_name: z.string().describe('What to show: the job’s name (with its matrix values), else its id.'),
    group: z
      .string()
      .nullable()
      .describe('For a combination of a matrix: the matrix job’s key in the pipeline file; null otherwise.'),
    matrix: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('The matrix values of this combination; null for a job without a matrix.'),
    outputs: z.record(z.string(), z.string()).describe('Its outputs: as evaluated when it ended.'),
    annotations: z
      .array(
        z.object({
          level: z.enum(['error', 'warning', 'notice']),
          message: z.string(),
          step: z.string().describe('The step that printed it.'),
          title: z.string().nullable(),
          file: z.string().nullable(),
          line: z.int().nullable(),
          end_line: z.int().nullable(),
          col: z.int().nullable(),
          end_column: z.int().nullable(),
        }),
      )
      .describe('::error::, ::warning:: and ::notice:: lines of its steps (at most 50 per job).'),
    summary: z
      .string()
      .nullable()
      .describe('What its steps wrote to $GITHUB_STEP_SUMMARY (Markdown, at most 64 KiB), or null.'),
    status: z.enum(JOB_STATUSES),
    needs: z.array(z.string()),
    attempt: z.int().min(0).describe('1 for the first run; 2 when the job ran again after its worker died.'),
    exit_code: z.int().nullable(),
    reason: z.string().nullable(),
    started_at: time.nullable(),
    finished_at: time.nullable(),
    duration_ms: z.int().nullable(),
    runner: z
      .enum(['sandbox', 'host'])
      .nullable()
      .describe('Where its last attempt ran: sandbox, or host (no isolation); null before it started.'),
  })
  .describe('One job of a build.');

export const pullRequestSchema = z
  .object({
    number: z.int().min(1),
    action: z
      .enum(PULL_REQUEST_ACTIONS)
      .describe('What the forge said happened (GitHub spelling on every forge).'),
    title: z.string().nullable(),
    source_branch: z.string().describe('The branch the change comes from, in head_repository.'),
    target_branch: z.string().describe('The branch it merges into; `branches:` filters match it.'),
    head_repository: z.string(),
    fork: z
      .boolean()
      .describe(
        'The head repository is not the base: the build gets no secrets and runs only in the sandbox.',
      ),
  })
  .describe('The pull (merge) request a build is for.');

export const buildSchema = z
  .object({
    id: z.string(),
    number: z.int().min(1).describe('Counts the builds of one pipeline.'),
    pipeline: z.string(),
    status,
    reason: z.string().nullable().describe('Why it is skipped, canceled, failed, errored or waiting.'),
    superseded_by: z.string().nullable(),
    forge: z.enum(FORGES),
    repository: z.string(),
    ref: z.string(),
    branch: z.string().nullable(),
    tag: z.string().nullable(),
    sha: z.string(),
    before: z.string(),
    message: z.string().nullable(),
    pusher: z.string().nullable(),
    delivery_id: z.string().describe('The forge delivery that started the build.'),
    event: z
      .enum(EVENT_KINDS)
      .describe('What started the build: push (a branch), tag, pull_request, schedule, manual or rerun.'),
    rerun_of: z.string().nullable().describe('The build this one re-runs (event rerun).'),
    pull_request: pullRequestSchema.nullable().describe('Set for pull request builds and their re-runs.'),
    cron: z.string().nullable().describe('The schedule that fired (event schedule).'),
    approval: z
      .object({ by: z.string(), at: time })
      .nullable()
      .describe('Who let a pull request from a fork run, and when.'),
    inputs: z
      .record(z.string(), z.string())
      .describe('The workflow_dispatch inputs of a manual build (and its re-runs), as strings.'),
    url: z.string().describe('The build in the API (JSON; needs the API token).'),
    html_url: z.string().describe('The build page of the dashboard, for people.'),
    created_at: time,
    started_at: time.nullable(),
    finished_at: time.nullable(),
    duration_ms: z.int().nullable(),
    unsandboxed: z
      .boolean()
      .describe(
        'A job of it ran without the sandbox (PUSHCI_RUNNER=host, or auto on a machine without namespaces).',
      ),
    jobs: z.array(jobSchema),
  })
  .describe('A build: GET /api/builds/{id} and the data.build of every outbound message.');

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
// Compile-time proof that the published schemas and the types the code uses are the same shape.
const sameBuild: Equal<z.infer<typeof buildSchema>, BuildView> = true;
const sameJob: Equal<z.infer<typeof jobSchema>, JobView> = true;
void sameBuild;
void sameJob;

/** JSON Schema (2020-12) of a zod schema, without the `$schema` line, for embedding. */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
  return rest;
}
