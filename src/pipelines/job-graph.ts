import { list, type CompileContext } from './compile-context.ts';
import type { JobDef } from './pipeline.ts';
import type { PipelineFile } from './schema.ts';

/**
 * Links the compiled jobs: refuses cycles through needs, makes the needs of a matrix job mean all of its
 * combinations, and settles which artifacts each job unpacks.
 */
export function linkJobs(
  cx: CompileContext,
  data: PipelineFile,
  jobs: JobDef[],
  /** Artifact name → the job (as written) that makes it. */
  artifactOwners: ReadonlyMap<string, string>,
): void {
  // Cycles are found on the jobs as written; then needs of a matrix job mean all of its combinations.
  const written = Object.keys(data.jobs).map((id) => ({ name: id, needs: list(data.jobs[id]!.needs) ?? [] }));
  for (const cycle of findCycles(written)) {
    cx.report(
      cx.pos.of(['jobs', cycle[0]!, 'needs']),
      `jobs form a cycle through needs: ${[...cycle, cycle[0]].join(' → ')}`,
    );
  }
  const members = new Map<string, string[]>();
  for (const job of jobs)
    members.set(job.group ?? job.name, [...(members.get(job.group ?? job.name) ?? []), job.name]);
  for (const job of jobs) job.needs = job.needs.flatMap((n) => members.get(n) ?? [n]);
  settleDownloads(cx, data, jobs, artifactOwners);
}

/**
 * Which artifacts each job unpacks: only ones made by jobs it needs (directly or not), which have
 * finished by the time it starts; all of its direct needs' when it does not say.
 */
function settleDownloads(
  cx: CompileContext,
  data: PipelineFile,
  jobs: JobDef[],
  artifactOwners: ReadonlyMap<string, string>,
): void {
  const byId = new Map(jobs.map((j) => [j.name, j]));
  const upstream = (name: string, seen = new Set<string>()): Set<string> => {
    for (const n of byId.get(name)?.needs ?? [])
      if (!seen.has(n) && byId.has(n)) {
        seen.add(n);
        upstream(n, seen);
      }
    return seen;
  };
  for (const job of jobs) {
    const written = job.group ?? job.name;
    const wanted = data.jobs[written]!['download-artifacts'];
    const before = upstream(job.name);
    const available = jobs.filter((j) => before.has(j.name)).flatMap((j) => j.artifacts.map((a) => a.name));
    if (wanted === undefined || wanted === true) {
      const direct = new Set(job.needs);
      job.downloadArtifacts = jobs
        .filter((j) => direct.has(j.name))
        .flatMap((j) => j.artifacts.map((a) => a.name));
    } else if (wanted !== false) {
      wanted.forEach((n, i) => {
        const owner = artifactOwners.get(n);
        const at = cx.pos.of(['jobs', written, 'download-artifacts', i]);
        if (!owner) cx.reportOnce(at, `no job makes an artifact "${n}"`);
        else if (!available.includes(n))
          cx.reportOnce(
            at,
            `artifact "${n}" is made by job "${owner}", which job "${written}" does not need (add it to needs)`,
          );
      });
      job.downloadArtifacts = wanted.filter((n) => available.includes(n));
    }
  }
}

/** Each elementary cycle reported once, starting at its first job in file order. */
function findCycles(jobs: ReadonlyArray<{ name: string; needs: string[] }>): string[][] {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[][] = [];
  const stack: string[] = [];
  const visit = (name: string) => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const n of byName.get(name)?.needs ?? []) {
      if (!byName.has(n) || n === name) continue;
      if (state.get(n) === 'visiting') cycles.push(stack.slice(stack.indexOf(n)));
      else if (!state.has(n)) visit(n);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const j of jobs) if (!state.has(j.name)) visit(j.name);
  return cycles;
}
