import { z } from 'zod';
import { EVENT_KINDS, PULL_REQUEST_ACTIONS } from '../core/event.ts';
import { IDENTIFIER } from '../core/names.ts';
import { FORGES, OUTBOUND_EVENT_TYPES } from '../model.ts';
import { UNSUPPORTED_EVENTS } from './unsupported-events.ts';

/**
 * The pipeline file format: one zod schema that types the parsed file and is published as JSON Schema
 * (`pushci schema`, `GET /schema/pipeline.json`) for editors.
 */

const patterns = z
  .union([z.string(), z.array(z.string()).min(1)], {
    error: 'must be a pattern or a non-empty list of patterns',
  })
  .describe('Glob pattern or list of patterns (GitHub Actions dialect; a leading ! excludes).');

const envMap = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'),
    z.union([z.string(), z.number(), z.boolean(), z.null()], {
      error: 'must be a string, a number or a boolean (an empty value is an empty string)',
    }),
  )
  .describe(
    'Environment variables; values may use ${{ }} expressions (env, secrets, vars, github, matrix, …).',
  );

/** A whole value written as one `${{ }}` expression, evaluated where GitHub evaluates it. */
const expression = (what: string) =>
  z
    .string()
    .regex(/^\s*\$\{\{[\s\S]*\}\}\s*$/, `must be ${what} or a \${{ }} expression`)
    .describe('A ${{ }} expression.');

const timeout = z
  .union([z.number().positive().max(10_080), expression('a number of minutes')], {
    error: 'must be a number of minutes (more than 0, at most 10080) or a ${{ }} expression',
  })
  .describe('Minutes before the step or job is killed.');

const condition = z
  .union([z.string().min(1), z.boolean()], { error: 'must be an expression such as success() or a boolean' })
  .describe(
    'Run only when this expression is true; ${{ }} may be left out. Without a status function it means success() && (…).',
  );

const continueOnError = (what: string) =>
  z
    .union([z.boolean(), expression('true or false')], {
      error: 'must be true, false or a ${{ }} expression',
    })
    .describe(what);

/** Keys real workflows carry that pushci accepts and does not act on (see "Coming from GitHub Actions"). */
const ignored = z
  .unknown()
  .describe('Accepted for compatibility with GitHub Actions; pushci does not use it.');
/** Keys pushci reports as not supported, with one message each (compile explains). */
const unsupported = z.unknown().describe('Not supported by pushci; reported by pushci validate.');

const step = z
  .strictObject({
    id: z
      .string()
      .regex(IDENTIFIER, 'step ids are letters, digits, _ and -, starting with a letter or _')
      .optional()
      .describe('Names the step for steps.<id>.outputs, .outcome and .conclusion.'),
    name: z.string().max(200).optional().describe('Shown in logs and the dashboard; may use ${{ }}.'),
    if: condition.optional(),
    run: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Script run by the shell, in the job’s working directory. Each ${{ }} reaches the script as an environment variable, never as code.',
      ),
    uses: z
      .string()
      .min(1)
      .optional()
      .describe(
        'An action instead of run: ./path (an action.yml in the checkout), owner/repo@ref or owner/repo/path@ref (see "Actions" in the README).',
      ),
    with: z
      .record(
        z.string().min(1),
        z.union([z.string(), z.number(), z.boolean(), z.null()], {
          error: 'must be a string, a number or a boolean',
        }),
      )
      .optional()
      .describe('Inputs of the action in uses:; values may use ${{ }}.'),
    env: envMap.optional(),
    'timeout-minutes': timeout.optional(),
    'continue-on-error': continueOnError('A failure of this step does not fail the job.').optional(),
    'working-directory': z.string().min(1).optional().describe('Relative to the checkout.'),
    shell: z
      .string()
      .min(1)
      .optional()
      .describe(
        'bash (default), sh, python, node, pwsh, or a command line such as `bash -e {0}`; the script file replaces {0} or is appended.',
      ),
  })
  .describe('One step: a script (run:) or an action (uses:).');

const defaults = z
  .strictObject({
    run: z
      .strictObject({
        shell: z.string().min(1).optional().describe('Shell of every run step that sets none.'),
        'working-directory': z
          .string()
          .min(1)
          .optional()
          .describe('Working directory of every run step that sets none.'),
      })
      .optional(),
  })
  .describe('Defaults for run steps.');

export const JOB_ID = IDENTIFIER;

const network = z
  .enum(['default', 'none', 'host'])
  .describe(
    'Network of sandboxed steps: default (outbound only, nothing on this machine), none, or host (this machine’s network, loopback included: a step can reach pushci’s API and Redis).',
  );

const relPath = z.string().min(1).max(1000);

const cacheEntry = z
  .strictObject({
    key: z
      .string()
      .min(1)
      .max(512)
      .describe(
        "Cache key; may use ${{ env.NAME }} and ${{ hashFiles('pattern', ...) }} (a hash of the checkout's matching files).",
      ),
    paths: z
      .union([relPath, z.array(relPath).min(1)], { error: 'must be a path or a non-empty list of paths' })
      .describe('Folders or files to keep: relative to the checkout, or under ~/ (the job’s home).'),
    'restore-keys': z
      .union([z.string().min(1), z.array(z.string().min(1))], {
        error: 'must be a key prefix or a list of them',
      })
      .optional()
      .describe('Key prefixes tried in order when the key itself has no entry; the newest match wins.'),
  })
  .describe('A cache restored before the steps and saved after they succeeded.');

const artifactEntry = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'artifact names are letters, digits, ".", "_" and "-"')
      .describe('Unique within the pipeline.'),
    paths: z
      .union([relPath, z.array(relPath).min(1)], {
        error: 'must be a pattern or a non-empty list of patterns',
      })
      .describe('Files to keep, as glob patterns relative to the checkout (`dist/**`).'),
  })
  .describe('Files uploaded after the steps succeeded; later jobs and users download them.');

/** The service keys of a GitHub workflow that only mean something with `image:` (compile explains). */
const containerOnly = z.unknown().describe('Only for image: services, which need a container engine.');

const service = z
  .strictObject({
    run: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Bash script that starts the service in the job’s sandbox, before the steps; it reads its port from $PORT and runs until the job ends.',
      ),
    ready: z
      .union([z.string().min(1), z.literal(false)], {
        error: 'must be a command (retried until it succeeds) or false',
      })
      .optional()
      .describe(
        'A command retried until it succeeds (e.g. redis-cli -p $PORT ping); false: no check. Default: the service listens on $PORT.',
      ),
    'ready-timeout': z
      .number({ error: 'must be a number of seconds' })
      .positive()
      .max(3600)
      .optional()
      .describe('Seconds the service has to become ready (default 60); then the job fails.'),
    port: z
      .number({ error: 'must be a port number' })
      .int()
      .min(1024)
      .max(65535)
      .optional()
      .describe('The port it listens on (default: a free one chosen by the worker), as $PORT.'),
    env: envMap.optional(),
    image: containerOnly.optional(),
    ports: containerOnly.optional(),
    options: containerOnly.optional(),
    volumes: containerOnly.optional(),
    credentials: containerOnly.optional(),
  })
  .describe('A process next to the job (a database, a cache), reached by the steps on 127.0.0.1.');

const job = z
  .strictObject({
    name: z.string().max(200).optional().describe('Display name.'),
    needs: z
      .union([z.string(), z.array(z.string())], { error: 'must be a job id or a list of job ids' })
      .optional()
      .describe('Jobs that must finish first.'),
    if: condition.optional(),
    env: envMap.optional(),
    'timeout-minutes': timeout.optional(),
    'continue-on-error': continueOnError('A failure of this job does not fail the build.').optional(),
    'working-directory': z.string().min(1).optional().describe('Default working directory of the steps.'),
    defaults: defaults.optional(),
    network: network.optional(),
    cache: z
      .union([cacheEntry, z.array(cacheEntry).min(1).max(10)], {
        error: 'must be a cache ({ key, paths }) or a list of at most 10',
      })
      .optional(),
    artifacts: z
      .union([artifactEntry, z.array(artifactEntry).min(1).max(10)], {
        error: 'must be an artifact ({ name, paths }) or a list of at most 10',
      })
      .optional(),
    'download-artifacts': z
      .union([z.boolean(), z.array(z.string().min(1))], {
        error: 'must be true, false or a list of artifact names',
      })
      .optional()
      .describe(
        'Artifacts unpacked into the checkout before the steps: true (default) for every artifact of the jobs this one needs, false for none, or a list of names.',
      ),
    permissions: ignored.optional(),
    environment: ignored.optional(),
    concurrency: ignored.optional(),
    'runs-on': z
      .union(
        [
          z.string().min(1),
          z.array(z.string().min(1)).min(1),
          z.strictObject({
            group: z.string().min(1).optional().describe('Accepted; pushci has no runner groups.'),
            labels: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
          }),
        ],
        { error: 'must be a label, a list of labels, or { labels: [...] }' },
      )
      .optional()
      .describe(
        'Labels a worker must have (PUSHCI_RUNNER_LABELS); ubuntu-latest and other GitHub-hosted names map to linux, macos, windows. May use ${{ matrix.* }}.',
      ),
    container: unsupported.optional(),
    services: z
      .record(
        z.string().regex(JOB_ID, 'service ids are letters, digits, _ and -, starting with a letter or _'),
        service,
      )
      .optional()
      .describe('Processes started before the steps and stopped with the job.'),
    uses: unsupported.optional(),
    secrets: unsupported.optional(),
    with: unsupported.optional(),
    strategy: z
      .strictObject({
        matrix: z
          .union([z.record(z.string(), z.unknown()), z.string()], {
            error: 'must be a map of matrix keys to lists of values (with optional include and exclude)',
          })
          .describe('Keys with lists of values; every combination is a job. include/exclude as on GitHub.'),
        'fail-fast': z
          .boolean({ error: 'must be true or false' })
          .optional()
          .describe('A failed combination cancels the others (default true).'),
        'max-parallel': z
          .number({ error: 'must be a whole number above 0' })
          .int()
          .positive()
          .optional()
          .describe('At most this many combinations run at once.'),
      })
      .optional()
      .describe('A matrix: the job runs once for each combination of values (at most 256).'),
    outputs: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'output names are letters, digits, _ and -'),
        z.string({ error: 'must be a string, usually ${{ steps.<id>.outputs.<name> }}' }),
      )
      .optional()
      .describe(
        'Values for the jobs that need this one (needs.<job>.outputs.<name>); evaluated when the job ends.',
      ),
    steps: z
      .array(step)
      .optional()
      .describe('Run in order; after a failure only steps whose if: asks for it run.'),
  })
  .describe('A job: steps that run in one fresh checkout.');

const push = z
  .strictObject({
    branches: patterns.optional(),
    'branches-ignore': patterns.optional(),
    tags: patterns.optional(),
    'tags-ignore': patterns.optional(),
    paths: patterns.optional(),
    'paths-ignore': patterns.optional(),
  })
  .describe('Which pushes start this pipeline; no filter at all means every branch and tag push.');

const pullRequest = z
  .strictObject({
    branches: patterns.optional().describe('Target branches (the branch the pull request merges into).'),
    'branches-ignore': patterns.optional(),
    types: z
      .array(z.enum(PULL_REQUEST_ACTIONS))
      .min(1)
      .optional()
      .describe('Which actions build (default: opened, synchronize, reopened).'),
    paths: patterns.optional().describe('Files changed by the whole pull request (merge base to head).'),
    'paths-ignore': patterns.optional(),
  })
  .describe('Which pull (merge) requests start this pipeline; no filter means all of them.');

const schedule = z
  .array(
    z.strictObject({
      cron: z
        .string()
        .min(1)
        .describe('Five fields, UTC: minute hour day-of-month month day-of-week, e.g. "0 3 * * *".'),
      branch: z
        .string()
        .min(1)
        .max(255)
        .optional()
        .describe('Branch whose head is built (default: the repository’s default branch).'),
      always: z
        .boolean()
        .optional()
        .describe('Build even when this schedule already built the same commit successfully.'),
    }),
  )
  .min(1)
  .describe('Scheduled builds.');

export const INPUT_NAME = IDENTIFIER;

const input = z
  .strictObject({
    description: z.string().max(500).optional(),
    type: z.enum(['string', 'boolean', 'choice', 'number']).optional().describe('Default string.'),
    required: z.boolean().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    options: z.array(z.string()).min(1).optional().describe('The allowed values of a choice.'),
  })
  .describe('One input of a manual build.');

const dispatch = z
  .strictObject({
    inputs: z
      .record(z.string().regex(INPUT_NAME, 'input names are letters, digits, _ and -'), input)
      .optional(),
  })
  .describe('Manual builds (API, CLI, dashboard) and their inputs.');

// GitHub's other events parse, so that validate says of each that it is not supported (compile-triggers).
const triggerName = z.enum(['push', 'pull_request', 'workflow_dispatch', ...Object.keys(UNSUPPORTED_EVENTS)]);

const triggers = z.strictObject({
  push: push.nullable().optional(),
  pull_request: pullRequest.nullable().optional(),
  schedule: schedule.optional(),
  workflow_dispatch: dispatch.nullable().optional(),
  ...Object.fromEntries(Object.keys(UNSUPPORTED_EVENTS).map((e) => [e, unsupported.optional()])),
});

const notify = z
  .strictObject({
    url: z.string().min(1).describe('Receiver URL; may use ${{ env.NAME }}.'),
    secret: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(2)], {
        error: 'must be a secret or a list of at most two secrets',
      })
      .describe(
        'whsec_ signing secret, or two during a rotation; use ${{ env.NAME }} or ${{ secrets.NAME }}.',
      ),
    events: z
      .array(z.enum(OUTBOUND_EVENT_TYPES as [string, ...string[]]))
      .min(1)
      .optional()
      .describe('Event types to send (default: build.queued, build.started, build.completed).'),
    branches: patterns.optional().describe('Only builds of these branches.'),
  })
  .describe('A receiver of signed status webhooks (Standard Webhooks).');

export const pipelineSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe(
        'The pipeline’s name, defaults to the file name. A name of letters, digits, ".", "_" and "-" is also its id; any other name (spaces, …) is shown, and the id is the file name.',
      ),
    'run-name': ignored.optional(),
    permissions: ignored.optional(),
    defaults: defaults.optional(),
    repository: z
      .string()
      .min(1)
      .describe('owner/name (GitHub full_name, GitLab path_with_namespace); may be a glob.'),
    'clone-url': z
      .string()
      .min(1)
      .optional()
      .describe(
        'Where to fetch from; default derived from the forge and repository, never from the payload.',
      ),
    forge: z.enum(FORGES).optional().describe('Only pushes from this forge.'),
    on: z
      .union([triggerName, z.array(triggerName).min(1), triggers], {
        error:
          'must be an event name (push, pull_request, workflow_dispatch), a list of them, or a map with push, pull_request, schedule and workflow_dispatch keys',
      })
      .describe('Which events start this pipeline.'),
    'pull-requests': z
      .strictObject({
        forks: z
          .enum(['run', 'approve', 'never'])
          .optional()
          .describe(
            'Pull requests from forks: approve (default: wait as pending-approval until someone approves), run, or never.',
          ),
      })
      .optional()
      .describe('The trust policy for pull requests. Fork builds never get secrets, whatever this says.'),
    secrets: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'secret names are letters, digits and _'),
        z.strictObject({
          events: z
            .array(z.enum(EVENT_KINDS))
            .min(1)
            .optional()
            .describe('Only builds started by these events get it (a re-run counts as its original event).'),
          branches: patterns
            .optional()
            .describe('Only builds of these branches (for pull requests: the target) get it.'),
        }),
      )
      .optional()
      .describe(
        'Limits who gets a ${{ secrets.NAME }}: builds of other events or branches get an empty value.',
      ),
    env: envMap.optional(),
    network: network.optional(),
    jobs: z.record(
      z.string().regex(JOB_ID, 'job ids are letters, digits, _ and -, starting with a letter or _'),
      job,
    ),
    notify: z.array(notify).optional(),
    'commit-status': z
      .union([z.boolean(), z.strictObject({ context: z.string().min(1).max(100).optional() })], {
        error: 'must be true or { context: ... }',
      })
      .optional()
      .describe(
        'Report the build as a commit status on GitHub, GitLab, Gitea or Forgejo (token from GITHUB_TOKEN, GITLAB_TOKEN, GITEA_TOKEN, FORGEJO_TOKEN).',
      ),
    concurrency: z
      .union(
        [
          z.string().min(1).max(200).describe('The group, as GitHub’s short form.'),
          z.strictObject({
            group: z
              .string()
              .min(1)
              .max(200)
              .optional()
              .describe(
                'Builds in one group run one at a time (default: pipeline and ref); may use ${{ github.* }} and ${{ inputs.* }}.',
              ),
            'cancel-in-progress': z
              .union(
                [z.boolean(), z.string().regex(/\$\{\{/, 'must be true, false or a ${{ }} expression')],
                {
                  error: 'must be true, false or a ${{ }} expression',
                },
              )
              .optional()
              .describe(
                'A newer build cancels the running one instead of waiting for it; may be an expression of ${{ github.* }} and ${{ inputs.* }}, evaluated per build.',
              ),
            max: z
              .number()
              .int()
              .positive()
              .max(1000)
              .optional()
              .describe('At most this many jobs of this pipeline run at once, across all workers.'),
          }),
        ],
        { error: 'must be a group name or a map with group, cancel-in-progress and max' },
      )
      .optional()
      .describe('Superseding and limits. Without it every push builds, in parallel.'),
  })
  .describe('A pushci pipeline file.');

export type PipelineFile = z.infer<typeof pipelineSchema>;

/** The JSON Schema published for editors (yaml-language-server). */
export function pipelineJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(pipelineSchema, { target: 'draft-2020-12', io: 'input' }),
    $id: 'https://pushci.dev/schema/pipeline.json',
    title: 'pushci pipeline',
  };
}
