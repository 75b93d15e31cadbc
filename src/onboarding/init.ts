import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { parseEnv } from 'node:util';
import { join } from 'node:path';
import { forgeNamed } from '../forges/registry.ts';
import type { ForgeName } from '../model.ts';

export interface InitAnswers {
  forge: ForgeName;
  repository: string;
  branches: string[];
  publicUrl: string;
  cloneUrl?: string;
}

export interface InitResult {
  pipelineFile: string;
  wrotePipeline: boolean;
  envFile: string;
  wroteEnv: boolean;
  /** Names appended to an existing .env (it lacked them); existing values are never changed. */
  addedToEnv: string[];
  /** The lines of .env (written, or to add by hand when a .env already existed). */
  env: Record<string, string>;
  /** What to paste into the forge's webhook settings. */
  instructions: string[];
}

const secret = () => randomBytes(32).toString('hex');

/** A commented pipeline file that validates as written. */
export function pipelineText(a: InitAnswers, name: string): string {
  return `# yaml-language-server: $schema=${a.publicUrl}/schema/pipeline.json
# The pipeline for ${a.repository}. The format is a subset of GitHub Actions; see the README.
name: ${name}
repository: ${a.repository}
forge: ${a.forge}
${a.cloneUrl ? `clone-url: ${a.cloneUrl}\n` : `# clone-url: defaults to the ${a.forge} URL of the repository\n`}on:
  push:
    branches: [${a.branches.map((b) => JSON.stringify(b)).join(', ')}]
    # tags: ['v*']            # uncomment to build tags too
  pull_request:               # ${a.forge === 'gitlab' ? 'merge' : 'pull'} requests into these branches; a fork's waits for approval (see the README)
    branches: [${a.branches.map((b) => JSON.stringify(b)).join(', ')}]
jobs:
  build:
    timeout-minutes: 30
    steps:
      - name: show what is built
        run: echo "building $CI_REPO at $CI_COMMIT_SHA ($CI_COMMIT_REF)"
      # - run: npm ci
      # - run: npm test
# notify:                      # signed build results (Standard Webhooks) to your receiver:
#   - url: https://hooks.example.com/ci
#     secret: \${{ env.CALLBACK_SECRET }}
`;
}

/**
 * Writes a pipeline file and a .env with fresh secrets (never replacing existing files), and says what
 * to paste into the forge's webhook settings.
 */
export async function init(
  dir: string,
  pipelinesDir: string,
  a: InitAnswers,
  /** The API token the data dir already has (a serve started before init made it): kept, not replaced. */
  apiToken?: string,
): Promise<InitResult> {
  const name =
    (a.repository.split('/').pop() ?? 'app')
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '') || 'app';
  const pipelineFile = join(pipelinesDir, `${name}.yml`);
  const wrotePipeline = !existsSync(pipelineFile);
  if (wrotePipeline) {
    await mkdir(pipelinesDir, { recursive: true });
    await writeFile(pipelineFile, pipelineText(a, name));
  }
  const forge = forgeNamed(a.forge);
  const forgeSecret = secret();
  const env: Record<string, string> = {
    PUSHCI_PUBLIC_URL: a.publicUrl,
    [forge.setup.secretEnv]: forgeSecret,
    CALLBACK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
    PUSHCI_API_TOKEN: apiToken ?? secret(),
  };
  const envFile = join(dir, '.env');
  const wroteEnv = !existsSync(envFile);
  const added: string[] = [];
  if (wroteEnv) {
    const text = `# Written by pushci init. Keep it secret; pushci serve and worker read it.\n${Object.entries(
      env,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`;
    await writeFile(envFile, text, { mode: 0o600 });
  } else {
    // A rerun keeps every value the .env already has, so what it prints to paste into the forge is
    // what pushci will check; only the names it lacks (another forge's secret, say) are appended.
    const existing = parseEnv(await readFile(envFile, 'utf8'));
    for (const k of Object.keys(env)) {
      const have = existing[k];
      if (have !== undefined) env[k] = have;
      else added.push(k);
    }
    if (added.length > 0)
      await appendFile(
        envFile,
        `\n# Added by pushci init for ${a.forge} ${a.repository}.\n${added.map((k) => `${k}=${env[k]}`).join('\n')}\n`,
      );
  }
  const instructions = forge.setup.instructions({
    repository: a.repository,
    hookUrl: `${a.publicUrl}/webhooks/${a.forge}`,
    secret: env[forge.setup.secretEnv]!,
  });
  return { pipelineFile, wrotePipeline, envFile, wroteEnv, addedToEnv: added, env, instructions };
}
