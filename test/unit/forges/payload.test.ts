import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeUtf8, utf8Problem } from '../../../src/forges/payload.ts';

/** What the verifier said before it stopped decoding: the decoded text's verdict. */
const byDecoding = (b: Buffer) => {
  const text = decodeUtf8(b);
  return text === null ? 'invalid' : text === '' ? 'empty' : null;
};

describe('utf8Problem', () => {
  it('judges a body as decoding it would, without decoding', () => {
    const cases = [
      '',
      '\ufeff',
      '\ufeff{}',
      '{"a":"é😀"}',
      [0xff],
      [0xc0, 0x80], // an overlong NUL
      [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded on its own
      [0xef, 0xbb], // a cut byte order mark
      [0xe2, 0x82], // a cut character
      [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
    ].map((c) => (typeof c === 'string' ? Buffer.from(c) : Buffer.from(c)));
    for (let i = 0; i < 2000; i++) cases.push(randomBytes(1 + (i % 12)));
    for (const b of cases) assert.equal(utf8Problem(b), byDecoding(b), b.toString('hex'));
    assert.equal(utf8Problem(Buffer.from('\ufeff')), 'empty');
    assert.equal(utf8Problem(Buffer.from([0xff])), 'invalid');
    assert.equal(utf8Problem(Buffer.from('{}')), null);
  });
});
