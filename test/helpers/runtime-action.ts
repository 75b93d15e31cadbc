/**
 * A node action of the checkout (`uses: ./.github/actions/runtime`) that hands the actions runtime's
 * variables to the job's later steps through $GITHUB_ENV, as `crazy-max/ghaction-github-runtime` does on
 * GitHub: actions get them, `run:` steps do not unless a step like this one passes them on. It also
 * says whether it reached the cache protocol itself (`runtime action: cache protocol <status>`).
 */
export const RUNTIME_ACTION: Record<string, string> = {
  '.github/actions/runtime/action.yml': 'name: runtime\nruns:\n  using: node20\n  main: index.mjs\n',
  '.github/actions/runtime/index.mjs': `import { appendFileSync } from 'node:fs';
const url = process.env.ACTIONS_CACHE_URL;
const r = await fetch(url + '_apis/artifactcache/cache?keys=none&version=0', {
  headers: { authorization: 'Bearer ' + process.env.ACTIONS_RUNTIME_TOKEN },
}).then((res) => res.status, (e) => e.cause?.code ?? e.message);
console.log('runtime action: cache protocol ' + r);
for (const k of ['ACTIONS_CACHE_URL', 'ACTIONS_RESULTS_URL', 'ACTIONS_RUNTIME_TOKEN'])
  if (process.env[k]) appendFileSync(process.env.GITHUB_ENV, k + '=' + process.env[k] + '\\n');
`,
};

/** The step that runs it, indented for a job's `steps:` list. */
export const RUNTIME_STEP = '      - uses: ./.github/actions/runtime\n';
