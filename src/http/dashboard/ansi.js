// ANSI SGR colours to spans; everything else of an escape sequence is dropped.
import { h } from './ui.js';

const ANSI = {
  30: '#6e7681',
  31: '#ff7b72',
  32: '#3fb950',
  33: '#d29922',
  34: '#58a6ff',
  35: '#bc8cff',
  36: '#39c5cf',
  37: '#b1bac4',
  90: '#6e7681',
  91: '#ffa198',
  92: '#56d364',
  93: '#e3b341',
  94: '#79c0ff',
  95: '#d2a8ff',
  96: '#56d4dd',
  97: '#ffffff',
};

/** The text without escape sequences, as search sees it. */
export const plain = (text) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/** One log line's text as nodes, coloured as the terminal would. */
export function ansiLine(text) {
  const frag = document.createDocumentFragment();
  let color = null;
  let bold = false;
  const parts = text.split(/\x1b\[([0-9;]*)m/);
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      for (const code of part.split(';').map(Number)) {
        if (code === 0 || Number.isNaN(code)) [color, bold] = [null, false];
        else if (code === 1) bold = true;
        else if (code === 22) bold = false;
        else if (code === 39) color = null;
        else if (ANSI[code]) color = ANSI[code];
      }
      return;
    }
    const clean = plain(part);
    if (!clean) return;
    if (!color && !bold) frag.append(clean);
    else
      frag.append(
        h(
          'span',
          { style: color ? `color:${color}` : undefined, class: bold ? 'ansi-bold' : undefined },
          clean,
        ),
      );
  });
  return frag;
}
