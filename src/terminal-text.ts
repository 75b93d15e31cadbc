/** Longest escape sequence kept while waiting for its end; longer ones are dropped whole. */
const MAX_PENDING = 4096;

// One token at a time: an escape sequence (CSI, OSC/DCS/SOS/PM/APC strings, or a short ESC sequence),
// a C0/C1 control, or a run of plain text. A sequence cut off at the end of the input stays pending.
const CSI = /^\x1b\[([0-9;:<=>?]*)([ -/]*)([@-~])/;
const STRING = /^\x1b[\]PX^_][\s\S]*?(?:\x07|\x1b\\|\x9c)/;
const SHORT = /^\x1b[ -/]*[0-~]/;
const SGR_PARAMS = /^[0-9;:]*$/;

/**
 * A filter for text that goes to a terminal from somewhere untrusted (a job's log): it keeps SGR colour
 * and style sequences (`ESC [ … m`: the log was printed with them, and they cannot do more than colour)
 * and drops every other escape sequence and control character: cursor movement and erasing (which can
 * hide or rewrite lines already shown), window titles, OSC 8 links, OSC 52 clipboard writes, device
 * queries whose answers the terminal types back in, DCS strings, C1 controls, backspace, bell.
 * Tabs and newlines stay; a carriage return not followed by a newline becomes one, so progress output
 * cannot overwrite what came before. `write` takes chunks in order (a sequence may be split between
 * them); `end` flushes.
 */
export function createTerminalFilter(): { write(text: string): string; end(): string } {
  let pending = '';
  const run = (input: string, final: boolean): string => {
    let s = pending + input;
    pending = '';
    let out = '';
    while (s.length > 0) {
      const c = s.charCodeAt(0);
      if (c === 0x1b) {
        const csi = CSI.exec(s);
        if (csi) {
          if (csi[3] === 'm' && csi[2] === '' && SGR_PARAMS.test(csi[1]!)) out += csi[0];
          s = s.slice(csi[0].length);
          continue;
        }
        const str = /^\x1b[\]PX^_]/.test(s) ? STRING.exec(s) : null;
        if (str) {
          s = s.slice(str[0].length);
          continue;
        }
        if (!/^\x1b[\]PX^_[]/.test(s)) {
          const short = SHORT.exec(s);
          if (short) {
            s = s.slice(short[0].length);
            continue;
          }
        }
        // An unfinished sequence: wait for the rest, unless this is the end or it is absurdly long.
        if (
          !final &&
          s.length <= MAX_PENDING &&
          /^\x1b(?:\[[0-9;:<=>?]*[ -/]*|[\]PX^_][\s\S]*|[ -/]*)$/.test(s)
        ) {
          pending = s;
          return out;
        }
        s = s.slice(1);
        continue;
      }
      if (c === 0x0d) {
        if (s.length === 1 && !final) {
          pending = s;
          return out;
        }
        out += '\n';
        s = s.slice(s.charCodeAt(1) === 0x0a ? 2 : 1);
        continue;
      }
      if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0x7f || (c >= 0x80 && c <= 0x9f)) {
        s = s.slice(1);
        continue;
      }
      // A run of plain text up to the next control.
      const m = /^[^\x00-\x1f\x7f-\x9f]+|^[\t\n]+/.exec(s)!;
      out += m[0];
      s = s.slice(m[0].length);
    }
    return out;
  };
  return { write: (text) => run(text, false), end: () => run('', true) };
}
