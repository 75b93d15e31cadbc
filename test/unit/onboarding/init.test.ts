import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { init, type InitAnswers } from '../../../src/onboarding/init.ts';

const answers: InitAnswers = {
  forge: 'github',
  repository: 'octo-org/demo',
  branches: ['main'],
  publicUrl: 'http://localhost:3000',
};
const envLine = (file: string, key: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${key}=`))
    ?.slice(key.length + 1);

describe('pushci init', () => {
  it('keeps the API token a serve started before it made, so that serve and the CLI agree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-init-unit-'));
    const r = await init(dir, join(dir, 'pipelines'), answers, 'token-of-the-running-serve');
    assert.equal(r.wroteEnv, true);
    assert.equal(envLine(r.envFile, 'PUSHCI_API_TOKEN'), 'token-of-the-running-serve');
  });

  it('makes a fresh API token when the data dir has none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-init-unit-'));
    const r = await init(dir, join(dir, 'pipelines'), answers);
    assert.match(envLine(r.envFile, 'PUSHCI_API_TOKEN') ?? '', /^[\w-]{32,}$/);
  });
});
