import type { CompileContext, Path } from './compile-context.ts';
import type { Strategy } from './compile-strategy.ts';
import type { EvalContext } from './expr/evaluate.ts';
import { evaluateTemplate, hasExpression } from './expr/template.ts';
import { toBoolean, toNumber, toText, type Value } from './expr/values.ts';
import { combinationId, describeCombination } from './matrix.ts';
import type { ArtifactDef, CacheDef, JobDef, ServiceDef, StepDef } from './pipeline.ts';

/** A written job, compiled up to what each matrix combination evaluates for itself. */
export interface CompiledJob {
  id: string;
  path: Path;
  strategy: Strategy | null;
  /** The job's name as written, and whether its expressions checked. */
  title: string | null;
  titleOk: boolean;
  /** timeout-minutes as written; null when absent or its expressions did not check. */
  timeout: string | number | null;
  /** continue-on-error as written; null when absent or its expressions did not check. */
  continueOnError: string | boolean | null;
  /** runs-on labels as written with where each is; null when their expressions did not check. */
  runsOn: { labels: string[]; path: (i: number) => Path } | null;
  /** What every combination shares. */
  shared: {
    needs: string[];
    if: JobDef['if'];
    condition: string | null;
    env: Record<string, string>;
    outputs: Record<string, string> | null;
    workingDirectory: string | null;
    network: JobDef['network'];
    caches: CacheDef[];
    artifacts: ArtifactDef[];
    services: ServiceDef[];
    steps: StepDef[];
  };
}

/**
 * One JobDef per matrix combination (one for a job without a matrix): timeout, continue-on-error,
 * runs-on and the shown name evaluated with its matrix and strategy, its id unique among `jobIds`.
 */
export function expandVariants(cx: CompileContext, job: CompiledJob, jobIds: ReadonlySet<string>): JobDef[] {
  const { id: jobId, path: jp, strategy, title, titleOk, shared } = job;
  const jobs: JobDef[] = [];
  const variants = strategy ? strategy.combinations : [null];
  const ids = new Set<string>();
  variants.forEach((values, index) => {
    const strategyContext: { [k: string]: Value } = {
      'fail-fast': strategy?.failFast ?? true,
      'job-index': index,
      'job-total': variants.length,
      'max-parallel': strategy?.maxParallel ?? variants.length,
    };
    const ctx = { contexts: { matrix: values ?? {}, strategy: strategyContext } };
    const evaluated = (value: string | number | boolean, path: Path): Value => {
      if (typeof value !== 'string') return value;
      try {
        return evaluateTemplate(value, ctx);
      } catch (err) {
        cx.reportOnce(cx.pos.of(path), (err as Error).message);
        return null;
      }
    };
    let timeoutMinutes: number | null = null;
    if (job.timeout !== null) {
      const v = toNumber(evaluated(job.timeout, [...jp, 'timeout-minutes']));
      if (v > 0 && v <= 10_080) timeoutMinutes = v;
      else
        cx.reportOnce(
          cx.pos.of([...jp, 'timeout-minutes']),
          `timeout-minutes ${String(job.timeout)} is ${v}, not a number of minutes above 0 and at most 10080`,
        );
    }
    const continueOnError =
      job.continueOnError !== null
        ? toBoolean(evaluated(job.continueOnError, [...jp, 'continue-on-error']))
        : false;
    const written = job.runsOn;
    const runsOn = written
      ? written.labels.flatMap((l, i) => {
          const v = evaluated(l, written.path(i));
          return (Array.isArray(v) ? v.map(toText) : [toText(v)])
            .map((x) => x.trim().toLowerCase())
            .filter(Boolean);
        })
      : [];
    // A name that only uses matrix and strategy is shown rendered; GitHub appends the values otherwise.
    let shown = title;
    if (title !== null && titleOk && hasExpression(title)) shown = renderTitle(title, ctx);
    if (values && !(title !== null && /\bmatrix\b/.test(title)))
      shown = `${title ?? jobId} (${describeCombination(values)})`;
    let id = jobId;
    if (values) {
      id = combinationId(jobId, values);
      if (id === jobId || ids.has(id) || (id !== jobId && jobIds.has(id))) id = `${jobId}-${index + 1}`;
      ids.add(id);
    }
    jobs.push({
      name: id,
      ...(shown !== null ? { title: shown } : {}),
      ...(values
        ? {
            group: jobId,
            matrix: {
              values,
              index,
              total: variants.length,
              failFast: strategy!.failFast,
              maxParallel: strategy!.maxParallel,
            },
          }
        : {}),
      needs: shared.needs,
      if: shared.if,
      ...(shared.condition !== null ? { condition: shared.condition } : {}),
      env: shared.env,
      ...(runsOn.length > 0 ? { runsOn } : {}),
      ...(shared.outputs !== null ? { outputs: shared.outputs } : {}),
      timeoutMinutes,
      continueOnError,
      workingDirectory: shared.workingDirectory,
      network: shared.network,
      caches: shared.caches,
      artifacts: shared.artifacts,
      downloadArtifacts: [],
      ...(shared.services.length > 0 ? { services: shared.services } : {}),
      steps: shared.steps,
    });
  });
  return jobs;
}

/** A job name rendered with the matrix; a name that needs runtime contexts is shown as written. */
function renderTitle(title: string, ctx: EvalContext): string {
  try {
    return toText(evaluateTemplate(title, ctx)).replace(/\s+/g, ' ').trim() || title;
  } catch {
    return title;
  }
}
