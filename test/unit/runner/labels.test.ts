import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAliases, requiredLabels, workerLabels } from '../../../src/runner/labels.ts';

describe('runs-on labels', () => {
  it('maps GitHub-hosted names through the alias table, configured entries first', () => {
    const none = parseAliases([]);
    assert.deepEqual(requiredLabels(['ubuntu-latest'], none), ['linux']);
    assert.deepEqual(requiredLabels(['ubuntu-24.04'], none), ['linux']);
    assert.deepEqual(requiredLabels(['macos-14'], none), ['macos']);
    assert.deepEqual(requiredLabels(['windows-latest'], none), ['windows']);
    assert.deepEqual(requiredLabels(['self-hosted', 'Linux', 'GPU'], none), ['self-hosted', 'linux', 'gpu']);
    const custom = parseAliases(['big-runner=linux+x64+gpu', 'ubuntu-latest=linux+x64']);
    assert.deepEqual(requiredLabels(['big-runner'], custom), ['linux', 'x64', 'gpu']);
    assert.deepEqual(requiredLabels(['ubuntu-latest'], custom), ['linux', 'x64']);
  });

  it('refuses an alias it cannot read', () => {
    assert.throws(() => parseAliases(['nonsense']), /not name=label\+label/);
  });

  it('a worker offers its configured labels, else self-hosted, its OS and architecture', () => {
    assert.deepEqual(workerLabels(['Linux', 'gpu', 'linux']), ['linux', 'gpu']);
    const d = workerLabels([]);
    assert.equal(d[0], 'self-hosted');
    assert.equal(d.length, 3);
  });
});
