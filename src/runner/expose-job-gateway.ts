import type { JobRuntime } from './backend.ts';
import type { JobGateway } from './job-gateway.ts';

/**
 * Makes the job's gateway reachable from its steps and returns the variables the actions/cache and
 * artifact clients read; none when the runtime cannot reach it (the log says why). As on GitHub they
 * go to actions' processes (see `usesGateway`), not to `run:` steps.
 */
export async function exposeJobGateway(o: {
  runtime: JobRuntime;
  gateway: JobGateway;
  /** The ACTIONS_RUNTIME_TOKEN clients want set. */
  token: string;
  say: (line: string) => void;
}): Promise<Record<string, string>> {
  const { runtime, gateway: gw } = o;
  const exposed = runtime.exposeGateway ? await runtime.exposeGateway(gw.socket) : null;
  const cacheUrl = exposed === null ? await gw.listenLoopback() : 'url' in exposed ? exposed.url : null;
  if (exposed && 'url' in exposed) gw.base = exposed.url;
  if (exposed && 'unavailable' in exposed)
    o.say(
      `pushci: the actions/cache and artifact protocols are not available to the steps: ${exposed.unavailable}`,
    );
  if (!cacheUrl) return {};
  // Not a secret: the gateway authenticates; clients only want the variable set.
  return {
    ACTIONS_CACHE_URL: cacheUrl,
    // The artifact protocol (@actions/artifact) is served by the same gateway.
    ACTIONS_RESULTS_URL: cacheUrl,
    ACTIONS_RUNTIME_TOKEN: o.token,
  };
}

/**
 * Whether a step's environment holds the gateway's URL (an action's process, or a `run:` step that an
 * earlier step gave it through $GITHUB_ENV, as `crazy-max/ghaction-github-runtime` does on GitHub): only
 * such a step gets the gateway forwarded into its sandbox.
 */
export function usesGateway(env: Record<string, string>, gateway: Record<string, string>): boolean {
  return (
    (gateway.ACTIONS_CACHE_URL !== undefined && env.ACTIONS_CACHE_URL === gateway.ACTIONS_CACHE_URL) ||
    (gateway.ACTIONS_RESULTS_URL !== undefined && env.ACTIONS_RESULTS_URL === gateway.ACTIONS_RESULTS_URL)
  );
}
