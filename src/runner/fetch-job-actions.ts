import { realpath } from 'node:fs/promises';
import type { Config } from '../config.ts';
import type { ActionHolds, ActionsCache } from './actions-cache.ts';
import { fetchAction, type FetchedAction } from './fetch-action.ts';
import { prefetchActions } from './prefetch-actions.ts';

/** What a job's steps need of the actions they use, fetched before the first one runs. */
export interface JobActions {
  /** Every remote action the steps can reach, by `owner/repo@ref`. */
  fetched: Map<string, FetchedAction | { problem: string }>;
  /** Folders shown read-only to the steps: the fetched actions and, when a step uses one, the Node. */
  readOnly: string[];
  /** The Node that runs node actions, or null when it does not exist. */
  nodePath: string | null;
}

/**
 * Fetches, by the worker, the actions from other repositories that the job's steps use; or, as GitHub's
 * "Set up job" does, the reasons why some cannot be fetched (the job then fails before its first step).
 */
export async function fetchJobActions(o: {
  config: Readonly<Config>;
  uses: string[];
  checkout: string;
  realSrc: string;
  env: Record<string, string>;
  signal: AbortSignal;
  cache: ActionsCache;
  holds: ActionHolds;
  say: (line: string) => void;
}): Promise<JobActions | { unfetched: string[] }> {
  const { config } = o;
  const fetched = await prefetchActions(o.uses, {
    checkout: o.checkout,
    realSrc: o.realSrc,
    fetch: (ref) =>
      fetchAction({
        dataDir: config.dataDir,
        baseUrl: config.actionsUrl,
        allow: config.actionsAllow,
        ref,
        env: o.env,
        signal: o.signal,
        cache: o.cache,
        holds: o.holds,
      }),
    say: o.say,
  });
  const unfetched = [...fetched.values()].flatMap((f) => ('problem' in f ? [f.problem] : []));
  if (unfetched.length > 0) return { unfetched };
  const actionDirs = [...fetched.values()].flatMap((f) => ('dir' in f ? [f.dir] : []));
  // Node actions run with this worker's own Node (or PUSHCI_ACTIONS_NODE), shown read-only to the steps.
  const nodePath = await realpath(config.actionsNode ?? process.execPath).catch(() => null);
  return {
    fetched,
    readOnly: [...new Set(actionDirs), ...(o.uses.length > 0 && nodePath ? [nodePath] : [])],
    nodePath,
  };
}
