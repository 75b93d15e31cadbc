import { join } from 'node:path';
import { parseActionRef, type ActionRef } from '../pipelines/action-ref.ts';
import { builtinAction } from './builtin-actions.ts';
import { remoteKey, remoteLabel, type FetchedAction } from './fetch-action.ts';
import { readAction, type LoadedAction } from './load-action.ts';
import { MAX_ACTION_DEPTH } from './steps-job.ts';

type RemoteRef = Extract<ActionRef, { kind: 'remote' }>;

/**
 * Fetches, before the job's steps start, every remote action the job can reach: those its steps name,
 * and those named by the composite actions they run (local ones are read from the checkout), so the
 * sandbox can be given exactly these folders, read-only. A failure fails the job before its first step
 * (runJob), as GitHub's "Set up job" does.
 */
export async function prefetchActions(
  uses: string[],
  o: {
    checkout: string;
    realSrc: string;
    fetch: (ref: RemoteRef) => Promise<FetchedAction | { problem: string }>;
    say: (line: string) => void;
  },
): Promise<Map<string, FetchedAction | { problem: string }>> {
  const fetched = new Map<string, FetchedAction | { problem: string }>();
  const seen = new Set<string>();
  const walk = async (list: string[], depth: number): Promise<void> => {
    if (depth > MAX_ACTION_DEPTH) return;
    for (const u of list) {
      const ref = parseActionRef(u);
      if ('problem' in ref || ref.kind === 'docker') continue;
      let loaded: LoadedAction | { problem: string };
      if (ref.kind === 'local') {
        if (seen.has(`./${ref.path}`)) continue;
        seen.add(`./${ref.path}`);
        loaded = await readAction(join(o.checkout, ref.path), o.realSrc, `./${ref.path}`, ref.path, (r) => r);
      } else {
        if (builtinAction(ref)) continue;
        const key = remoteKey(ref);
        if (!fetched.has(key)) {
          const f = await o.fetch(ref);
          fetched.set(key, f);
          o.say(
            'problem' in f
              ? `pushci: action ${f.problem}`
              : `pushci: action ${key} is commit ${f.commit} (${f.cached ? 'cached on this worker' : `fetched from ${f.url.replace(/\/\/[^/@]*@/, '//')}`})`,
          );
        }
        const f = fetched.get(key)!;
        if ('problem' in f || seen.has(remoteLabel(ref))) continue;
        seen.add(remoteLabel(ref));
        loaded = await readAction(join(f.dir, ref.path), f.dir, remoteLabel(ref), ref.path || '.', (r) => r);
      }
      if ('problem' in loaded || loaded.def.runs.using !== 'composite') continue;
      await walk(
        loaded.def.runs.steps.flatMap((s) => (s.uses ? [s.uses] : [])),
        depth + 1,
      );
    }
  };
  await walk(uses, 0);
  return fetched;
}
