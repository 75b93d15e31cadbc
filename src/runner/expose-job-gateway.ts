import type { JobRuntime } from './backend.ts';
import type { JobGateway } from './job-gateway.ts';

/**
 * Makes the job's gateway reachable from its steps and returns the variables the actions/cache and
 * artifact clients read; none when the runtime cannot reach it (the log says why).
 */
export async function exposeJobGateway(o: {
  runtime: JobRuntime;
  gateway: JobGateway;
  /** The ACTIONS_RUNTIME_TOKEN clients want set. */
  token: string;
  /** The job's tmp folder, when the runtime sets no TMPDIR. */
  tmp: string;
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
    // Where @actions/cache puts its archive (its default is GitHub's runner's /home/actions/temp).
    RUNNER_TEMP: runtime.env.TMPDIR ?? o.tmp,
  };
}
