import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMasker } from '../../../src/runner/mask.ts';

describe('secret masking', () => {
  it('masks every occurrence', () => {
    assert.equal(createMasker(['s3cr3t'])('a s3cr3t and s3cr3t'), 'a ******** and ********');
  });
  it('masks multi-line secrets line by line, as output arrives', () => {
    const m = createMasker(['-----BEGIN KEY-----\nAAAAbbbbCCCC\n-----END KEY-----']);
    assert.equal(m('-----BEGIN KEY-----'), '********');
    assert.equal(m('  AAAAbbbbCCCC'), '  ********');
  });
  it('masks the longer of overlapping secrets whole', () => {
    assert.equal(createMasker(['abc', 'abcdef'])('xabcdefx'), 'x********x');
  });
  it('leaves text alone without secrets and ignores tiny fragments', () => {
    assert.equal(createMasker([])('plain'), 'plain');
    assert.equal(createMasker(['ab'])('about'), 'about');
  });
});
