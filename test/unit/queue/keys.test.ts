import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keys } from '../../../src/queue/keys.ts';

// Known answers (SHA-256 of the inputs, computed with createHash when these keys were first written):
// a key must name the same record from one version to the next, or a delivery or body remembered before
// an upgrade would be taken for new after it (a redelivery or a replay would build again).
describe('keys', () => {
  const k = keys('p');

  it('names a delivery by the SHA-256 of its id, cut to 32 hex characters', () => {
    assert.equal(
      k.seen('github', '72d3162e-cc78-11e3-81ab-4c9367dc0958'),
      'p:seen:github:9514e6751b793abb198c32e333740b61',
    );
  });

  it('names a body by the SHA-256 of its repository and its digest', () => {
    const digest = '0824666c6d4cda75e08b060ba856639a5783890362523f6e29f7966a1da6e3c3';
    assert.equal(
      k.seenBody('github', 'octo-org/web', digest),
      'p:seen-body:github:f705cfa01136be5feec3d6ce3c9b32b0ee45fe07e3c22fb46f1b5af6e4a8e6b4',
    );
    assert.notEqual(
      k.seenBody('github', 'octo-org/api', digest),
      k.seenBody('github', 'octo-org/web', digest),
    );
  });

  it('names a concurrency group and a cache scope by their hashes, whatever they hold', () => {
    assert.equal(k.group('ci-refs/heads/main'), 'p:group:4bd4c692f46ad67cb70c5a97e9342d27');
    assert.equal(
      k.cacheScope('octo-org/web', 'refs/heads/main'),
      'p:cache:scope:ac9beef9383dfd0a7a2d0829553cb905cf8e7fdb',
    );
    assert.match(k.group('a:b\n{c}*'), /^p:group:[0-9a-f]{32}$/);
  });
});
