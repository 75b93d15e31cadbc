import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, type Config } from '../../src/config.ts';
import { SETTINGS } from '../../src/settings.ts';

describe('the Config type and loadConfig follow the settings table', () => {
  it('the configuration has exactly one field per row, and the environment', () => {
    const c = loadConfig({});
    assert.deepEqual(Object.keys(c).toSorted(), [...SETTINGS.map((s) => s.key), 'env'].toSorted());
  });

  it('a row’s kind, default and values decide its field’s type (checked by tsc in npm run check)', () => {
    const c: Config = loadConfig({ PUSHCI_RUNNER: 'host', HOST: '127.0.0.1' });
    const port: number = c.port;
    const host: string | undefined = c.host;
    const runner: 'auto' | 'sandbox' | 'host' = c.runner;
    const secrets: string[] = c.githubSecrets;
    const keep: boolean = c.keepWorkspaces;
    // @ts-expect-error a string without a default may be undefined
    const token: string = c.apiToken;
    // @ts-expect-error a setting with values takes only them
    const other: 'auto' | 'host' = c.runner;
    // @ts-expect-error no row, no field
    void c.noSuchSetting;
    assert.deepEqual(
      [port, host, runner, secrets, keep, token, other],
      [3000, '127.0.0.1', 'host', [], false, undefined, 'host'],
    );
  });

  it('a value outside a row’s values is refused with the values it takes', () => {
    assert.throws(() => loadConfig({ PUSHCI_RUNNER: 'docker' }), {
      message: 'PUSHCI_RUNNER must be auto, sandbox or host, got "docker"',
    });
    assert.throws(() => loadConfig({ PUSHCI_FORK_PULL_REQUESTS: 'sometimes' }), {
      message: 'PUSHCI_FORK_PULL_REQUESTS must be approve, run or never, got "sometimes"',
    });
  });
});
