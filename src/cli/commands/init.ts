import { createInterface } from 'node:readline/promises';
import { ConfigError } from '../../errors.ts';
import { FORGE_LIST, isForgeName } from '../../forges/registry.ts';
import { readApiToken } from '../../api-token.ts';
import { init as runInit, type InitAnswers } from '../../onboarding/init.ts';
import type { Command, CommandInput } from '../command.ts';

const FORGE_CHOICES = FORGE_LIST.map((f) => f.name).join('|');

/** Answers for init: flags, else questions on a terminal, else the error that says which flag is missing. */
async function initAnswers(values: CommandInput['values'], publicUrl: string): Promise<InitAnswers> {
  const interactive = process.stdin.isTTY && !values.yes;
  let forge = values.forge as string | undefined;
  let repo = values.repo as string | undefined;
  let branches = values.branches as string | undefined;
  let url = publicUrl;
  if (interactive) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const ask = async (q: string, dflt: string) => (await rl.question(`${q} [${dflt}]: `)).trim() || dflt;
    forge ??= await ask(`Forge (${FORGE_LIST.map((f) => f.name).join(', ')})`, 'github');
    repo ??= await ask('Repository (owner/name)', 'octo-org/app');
    branches ??= await ask('Branches to build (comma-separated globs)', 'main');
    url = await ask('Public URL of this server (what the forge calls)', publicUrl);
    rl.close();
  }
  forge ??= 'github';
  if (!isForgeName(forge)) throw new ConfigError(`--forge is one of ${FORGE_CHOICES}, not "${forge}"`);
  if (!repo || !/^[^/\s]+(\/[^/\s]+)+$/.test(repo))
    throw new ConfigError(
      'give the repository: pushci init --repo owner/name (or run it in a terminal to be asked)',
    );
  return {
    forge,
    repository: repo,
    branches: (branches ?? 'main')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    publicUrl: url.replace(/\/+$/, ''),
    ...(values['clone-url'] ? { cloneUrl: String(values['clone-url']) } : {}),
  };
}

export const init: Command = {
  name: 'init',
  summary:
    "Writes a pipeline file and a .env with fresh secrets, and prints the values to paste into the forge's webhook settings.",
  usage: `[--yes] [--forge ${FORGE_CHOICES}] [--repo owner/name] [--branches main,...] [--public-url URL]`,
  details: 'On a terminal it asks what the flags do not say; it never overwrites an existing file.',
  flags: [
    { name: 'yes', short: 'y', type: 'boolean', doc: 'Ask nothing: take the flags and the defaults.' },
    {
      name: 'forge',
      type: 'string',
      value: FORGE_CHOICES,
      doc: 'The forge that sends the webhooks (default github).',
    },
    { name: 'repo', type: 'string', value: 'owner/name', doc: 'The repository the pipeline builds.' },
    {
      name: 'branches',
      type: 'string',
      value: 'GLOBS',
      doc: 'Comma-separated branch globs to build (default main).',
    },
    {
      name: 'clone-url',
      type: 'string',
      value: 'URL',
      doc: "Where workers clone from, when not the forge's URL.",
    },
  ],
  settings: true,
  async run({ values, config }) {
    const c = config();
    const answers = await initAnswers(values, c.publicUrl);
    // A serve started before init (the README's "Try it in a minute") made the data dir's API token: the
    // .env gets that one, so the CLI and that serve agree.
    let apiToken: string | undefined;
    try {
      apiToken = readApiToken(c.dataDir);
    } catch {
      // One others may read is no credential to keep: .env gets a new one.
    }
    const r = await runInit(process.cwd(), c.pipelinesDir, answers, apiToken);
    console.log(r.wrotePipeline ? `wrote ${r.pipelineFile}` : `kept the existing ${r.pipelineFile}`);
    if (r.wroteEnv) console.log(`wrote ${r.envFile} (secrets; pushci serve reads it)`);
    else if (r.addedToEnv.length > 0)
      console.log(`kept the values in your ${r.envFile} and added ${r.addedToEnv.join(', ')}`);
    else console.log(`kept your ${r.envFile}: it already has every value below`);
    console.log('');
    for (const line of r.instructions) console.log(line);
    // Where a newcomer looks first is the dashboard; the build's id is in the forge's delivery log.
    const token = encodeURIComponent(r.env.PUSHCI_API_TOKEN ?? '');
    console.log(
      '\nThen: npm start (or npx pushci serve; restart one already running, so it reads .env), push a commit, and watch the build:',
    );
    console.log(`  on the dashboard:  ${answers.publicUrl}/login?token=${token}`);
    console.log('  in a terminal:     npx pushci builds, then npx pushci logs --follow <id>');
    console.log(
      `  through the API:   curl -H "Authorization: Bearer ${r.env.PUSHCI_API_TOKEN}" ${answers.publicUrl}/api/builds`,
    );
    return 0;
  },
};
