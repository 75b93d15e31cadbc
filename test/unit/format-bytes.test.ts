import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes } from '../../src/format-bytes.ts';

describe('formatBytes', () => {
  it('says small sizes in bytes and KiB rather than 0.0 MB, and limits as before', () => {
    assert.equal(formatBytes(0), '0 bytes');
    assert.equal(formatBytes(1), '1 byte');
    assert.equal(formatBytes(512), '512 bytes');
    assert.equal(formatBytes(3482), '3.4 KiB');
    assert.equal(formatBytes(24 * 1024 ** 2), '24 MiB');
    assert.equal(formatBytes(1.25 * 1024 ** 2), '1.3 MiB');
    assert.equal(formatBytes(2.5 * 1024 ** 3), '2.5 GiB');
  });
});
