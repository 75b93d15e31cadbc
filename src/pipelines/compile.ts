import { basename, extname } from 'node:path';
import { createCompileContext } from './compile-context.ts';
import { compileJob } from './compile-job.ts';
import { compileNotify } from './compile-notify.ts';
import { compileSecretScopes, compileTriggers } from './compile-triggers.ts';
import type { Diagnostic } from './diagnostic.ts';
import { place } from './expr/places.ts';
import { hasExpression } from './expr/template.ts';
import { GlobSyntaxError, parseGlob } from './glob.ts';
import { linkJobs } from './job-graph.ts';
import type { Pipeline } from './pipeline.ts';
import type { Positions } from './positions.ts';
import type { PipelineFile } from './schema.ts';

/** What a pipeline id may be: it names keys, URLs and workspaces. */
export const PIPELINE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Turns a schema-valid file into a Pipeline and checks what a schema cannot: globs, the `needs` graph,
 * `${{ }}` references against the server's environment, and filter combinations GitHub also refuses.
 * Collects every problem rather than stopping at the first.
 */
export function compilePipeline(
  file: string,
  data: PipelineFile,
  pos: Positions,
  env: Readonly<Record<string, string>>,
): { pipeline: Pipeline; diagnostics: Diagnostic[] } {
  const cx = createCompileContext(file, pos, env);
  const id =
    data.name !== undefined && PIPELINE_ID.test(data.name) ? data.name : basename(file, extname(file));
  if (!PIPELINE_ID.test(id)) {
    cx.report(
      data.name === undefined ? { line: 1, col: 1 } : cx.pos.of(['name']),
      `file name "${id}" cannot be a pipeline id; rename the file to letters, digits, ".", "_" and "-"${data.name === undefined ? ' or add a "name:" like that' : ''}`,
    );
  }
  const name = id;
  const triggers = compileTriggers(cx, data);
  const secretScopes = compileSecretScopes(cx, data);
  try {
    parseGlob(data.repository);
  } catch (err) {
    if (!(err instanceof GlobSyntaxError)) throw err;
    cx.report(
      cx.pos.inString(['repository'], err.offset),
      `bad repository pattern "${data.repository}": ${err.message}`,
    );
  }
  if (data['clone-url'] !== undefined) cx.checkRefs(data['clone-url'], ['clone-url']);

  if (Object.keys(data.jobs).length === 0)
    cx.report(cx.pos.of(['jobs']), 'jobs is empty; add at least one job with steps');
  const artifactOwners = new Map<string, string>();
  const jobs = Object.keys(data.jobs).flatMap((jobId) => compileJob(cx, data, jobId, artifactOwners));
  linkJobs(cx, data, jobs, artifactOwners);
  const notify = compileNotify(cx, data);

  // GitHub's short form `concurrency: <group>`; a group with ${{ }} is evaluated when a build is created.
  const concurrency = typeof data.concurrency === 'string' ? { group: data.concurrency } : data.concurrency;
  if (concurrency?.group !== undefined && hasExpression(concurrency.group)) {
    const path = typeof data.concurrency === 'string' ? ['concurrency'] : ['concurrency', 'group'];
    cx.expressions.template(concurrency.group, path, place('a concurrency group', cx.expressions.names({})));
  }
  const cancelInProgress = concurrency?.['cancel-in-progress'];
  if (typeof cancelInProgress === 'string')
    cx.expressions.condition(
      cancelInProgress,
      ['concurrency', 'cancel-in-progress'],
      place('concurrency.cancel-in-progress', cx.expressions.names({})),
    );

  return {
    pipeline: {
      name,
      ...(data.name !== undefined && data.name !== name ? { title: data.name } : {}),
      file,
      repository: data.repository,
      cloneUrl: data['clone-url'] ?? null,
      forge: data.forge ?? null,
      ...triggers,
      forks: data['pull-requests']?.forks ?? null,
      secretScopes,
      env: cx.envMap(
        data.env,
        ['env'],
        place('workflow env', cx.expressions.names({ env: cx.expressions.envNames(new Set(), false) })),
      ),
      jobs,
      notify,
      concurrency:
        concurrency &&
        (concurrency.group !== undefined ||
          concurrency['cancel-in-progress'] !== undefined ||
          concurrency.max === undefined)
          ? {
              group: concurrency.group ?? null,
              cancelInProgress: concurrency['cancel-in-progress'] ?? false,
            }
          : null,
      maxJobs: concurrency?.max ?? null,
      commitStatus: data['commit-status']
        ? ((typeof data['commit-status'] === 'object' ? data['commit-status'].context : undefined) ??
          `pushci/${name}`)
        : null,
    },
    diagnostics: cx.diagnostics,
  };
}
