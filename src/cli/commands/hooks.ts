import { UsageError } from '../../errors.ts';
import { FORGE_LIST, forgeNamed, isForgeName } from '../../forges/registry.ts';
import type { Command } from '../command.ts';

const HOOK_FORGES = FORGE_LIST.filter((f) => f.hooks).map((f) => f.name);

export const hooks: Command = {
  name: 'hooks',
  summary: "Registers pushci's webhook through the forge API, or checks it and its recent deliveries.",
  usage: `create|check <owner/repo> [--forge ${HOOK_FORGES.join('|')}]`,
  details:
    'Needs the forge token (GITHUB_TOKEN, GITLAB_TOKEN, BITBUCKET_TOKEN) and its webhook secret; exit code 1 when the check finds a problem.',
  flags: [
    { name: 'forge', type: 'string', value: HOOK_FORGES.join('|'), doc: 'The forge (default github).' },
  ],
  settings: true,
  async run({ values, args, config }) {
    const [action, repo] = args;
    const name = String(values.forge ?? 'github');
    const forgeHooks = isForgeName(name) ? forgeNamed(name).hooks : null;
    if (!forgeHooks)
      throw new UsageError(`pushci hooks: --forge is one of ${HOOK_FORGES.join(', ')}, not "${name}"`);
    if ((action !== 'create' && action !== 'check') || !repo)
      throw new UsageError(
        `usage: pushci hooks create|check <owner/repo> [--forge ${HOOK_FORGES.join('|')}]`,
      );
    const c = config();
    const report = action === 'create' ? await forgeHooks.create(c, repo) : await forgeHooks.check(c, repo);
    for (const line of report.lines) console.log(line);
    return report.ok ? 0 : 1;
  },
};
