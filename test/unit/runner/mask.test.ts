import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import { createLineCut, createMasker } from '../../../src/runner/mask.ts';
import { splitLines } from '../../../src/runner/run-step.ts';

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

describe('cutting a line too long for one log line', () => {
  const secret = 'othersecretABC789';
  const X = 64 * 1024;

  /** The pieces splitLines emits for `chunks` written one after the other (a real stream). */
  async function pieces(chunks: string[], secrets: string[]): Promise<string[]> {
    const stream = new PassThrough();
    const out: string[] = [];
    const done = splitLines(stream, (l) => out.push(l), createLineCut(secrets));
    for (const c of chunks) {
      stream.write(c);
      await new Promise((r) => setImmediate(r));
    }
    stream.end();
    await done;
    return out;
  }

  it('never cuts a secret in two, each piece then masks it whole (attack: a secret across the 64 KiB cut)', async () => {
    const masker = createMasker([secret]);
    // All of it arrived at once; then its tail only after the cut would have been made.
    for (const chunks of [
      [`${'x'.repeat(X - 8)}${secret}\n`],
      [`${'x'.repeat(X - 6)}${secret.slice(0, 8)}`, `${secret.slice(8)}\n`],
    ]) {
      const got = await pieces(chunks, [secret]);
      assert.equal(got.join(''), chunks.join('').slice(0, -1), 'nothing lost or added');
      assert.ok(got.length >= 2, 'the line was cut');
      const masked = got.map(masker);
      assert.ok(
        masked.some((p) => p.endsWith('********') || p.startsWith('********')),
        masked.join('|').slice(-80),
      );
      for (const p of masked) {
        assert.ok(
          !p.includes('othersec') && !p.includes('retABC789'),
          `no part of the secret: …${p.slice(-40)}`,
        );
      }
    }
  });

  it('the control: without a secret near it the cut is at 64 KiB, as before', async () => {
    const got = await pieces([`${'y'.repeat(X + 10)}\n`], [secret]);
    assert.deepEqual(
      got.map((p) => p.length),
      [X, 10],
    );
    const plain = await pieces([`${'y'.repeat(X - 8)}${secret}\n`], []);
    assert.equal(plain[0]!.length, X, 'with no secret the secret-looking text is cut where it falls');
  });
});

describe('secrets split by terminal escapes', () => {
  const m = createMasker(['othersecretABC789']);
  it('masks a secret a colour escape splits (grep --color inside it), escapes and all', () => {
    const coloured = 'others\x1b[01;31m\x1b[Kecret\x1b[m\x1b[KABC789 end';
    assert.equal(m(coloured), '******** end');
    assert.equal(m(`\x1b[1mothersecretABC789\x1b[0m`), '\x1b[1m********\x1b[0m');
    // An OSC link title around part of it.
    assert.equal(m('x othe\x1b]8;;https://a\x07rsecretABC789 y'), 'x ******** y');
  });
  it('the control: escapes elsewhere stay, and text that only looks like the secret once stripped of other text stays', () => {
    assert.equal(m('\x1b[32mok\x1b[0m plain'), '\x1b[32mok\x1b[0m plain');
    assert.equal(m('others\x1b[1m-ecretABC789'), 'others\x1b[1m-ecretABC789');
  });
});

describe('masking, edge cases', () => {
  it('masks a secret split by a charset escape (tput sgr0 prints \\e(B)', () => {
    assert.equal(createMasker(['othersecretABC789'])('othersec\x1b(B\x1b[mretABC789'), '********');
  });
  it('masks secrets too large for one regular expression, one by one', () => {
    const big = 'k'.repeat(300_000) + 'END';
    const m = createMasker([big, 'small-secret']);
    assert.equal(m(`a ${big} b small-secret c`), 'a ******** b ******** c');
    const cut = createLineCut([big, 'small-secret'])(`${'x'.repeat(10)}${big}`, 100, true);
    assert.equal(cut, 10, 'cut before the big secret that spans the cut');
  });
  it('a line of exactly 64 KiB ended by CRLF is one line, with no empty line after it', async () => {
    const stream = new PassThrough();
    const out: string[] = [];
    const done = splitLines(stream, (l) => out.push(l), createLineCut(['othersecretABC789']));
    stream.end(`${'z'.repeat(64 * 1024)}\r\nnext\r\n\r\nlast`);
    await done;
    assert.deepEqual(
      out.map((l) => (l.length > 10 ? l.length : l)),
      [64 * 1024, 'next', '', 'last'],
    );
  });
});
