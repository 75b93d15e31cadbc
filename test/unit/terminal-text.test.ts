import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTerminalFilter } from '../../src/terminal-text.ts';

/** Runs `text` through a fresh filter, cut into chunks at every position in `cuts`. */
function filter(text: string, cuts: number[] = []): string {
  const f = createTerminalFilter();
  let out = '';
  let at = 0;
  for (const c of [...cuts, text.length]) {
    out += f.write(text.slice(at, c));
    at = c;
  }
  return out + f.end();
}

describe('terminal filter for job logs', () => {
  it('keeps text, tabs, newlines and SGR colours', () => {
    const text = 'plain\tTAB\n\x1b[32mgreen\x1b[0m \x1b[1;38;5;208mbold orange\x1b[m\n';
    assert.equal(filter(text), text);
  });

  it('drops every other escape sequence and control character', () => {
    const cases: Array<[string, string]> = [
      ['a\x1b[2Jb', 'ab'], // clear screen
      ['a\x1b[1A\x1b[2Kb', 'ab'], // cursor up, erase line: rewriting what was shown
      ['a\x1b]0;pwned title\x07b', 'ab'], // window title
      ['a\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\b', 'alinkb'], // OSC 8 hyperlink
      ['a\x1b]52;c;ZWNobyBwd25lZA==\x07b', 'ab'], // OSC 52 clipboard write
      ['a\x1b[6nb', 'ab'], // cursor position query: the terminal would type its answer
      ['a\x1bP+q544e\x1b\\b', 'ab'], // DCS request
      ['a\x1b_apc\x1b\\b', 'ab'],
      ['a\x1bcb', 'ab'], // full reset
      ['a\x1b(0b', 'ab'], // line-drawing charset
      ['a\x1b[?1049hb', 'ab'], // alternate screen
      ['a\x1b[8;1;1tb', 'ab'], // window resize
      ['a\x9b2Jb', 'a2Jb'], // 8-bit CSI: the control goes, the rest is harmless text
      ['a\x08\x08\x07\x00\x7fb', 'ab'], // backspace, bell, NUL, DEL
      ['progress 10%\rprogress 100%\r\n', 'progress 10%\nprogress 100%\n'],
    ];
    for (const [input, want] of cases) assert.equal(filter(input), want, JSON.stringify(input));
  });

  it('handles sequences split across chunks at every position', () => {
    const text = 'x\x1b[31mred\x1b[0m\x1b]0;title\x07y\x1b[2Jz\r\n';
    const want = 'x\x1b[31mred\x1b[0myz\n';
    for (let i = 0; i <= text.length; i++)
      for (let j = i; j <= text.length; j++) assert.equal(filter(text, [i, j]), want, `cut at ${i}, ${j}`);
  });

  it('drops an unterminated OSC at the end, and never holds back more than 4 KiB', () => {
    assert.equal(filter('a\x1b]0;never ends'), 'a]0;never ends');
    const f = createTerminalFilter();
    const big = `\x1b]0;${'x'.repeat(10_000)}`;
    const out = f.write(big) + f.write('tail') + f.end();
    assert.ok(!out.includes('\x1b'), 'no escape reaches the terminal');
    assert.ok(out.endsWith('tail'));
  });
});
