/** The actions runtime's variables, as a `run:` script would name them. */
const RUNTIME_VARIABLES = /\bACTIONS_(?:CACHE_URL|RESULTS_URL|RUNTIME_TOKEN)\b/g;

/**
 * Why a `run:` step that names the actions runtime's variables does not have them, or null when it has
 * them (or names none). Since run: steps stopped getting them (as on GitHub, only actions do), a script
 * written for pushci before that (`$ACTIONS_CACHE_URL` in a `run:` step) would otherwise see them empty
 * with nothing in the log to say why. `gateway` is what actions get: empty when the job has no gateway,
 * and then the log already says why.
 */
export function gatewayHint(
  step: string,
  script: string,
  env: Record<string, string>,
  gateway: Record<string, string>,
): string | null {
  const missing = [...new Set(script.match(RUNTIME_VARIABLES) ?? [])].filter(
    (name) => gateway[name] !== undefined && env[name] === undefined,
  );
  if (missing.length === 0) return null;
  return (
    `pushci: step "${step}" names ${missing.join(', ')}, which a run: step does not get (as on GitHub, only ` +
    `actions do): an earlier action can pass ${missing.length > 1 ? 'them' : 'it'} on through $GITHUB_ENV, ` +
    `as crazy-max/ghaction-github-runtime does (README: Caches and artifacts)`
  );
}
