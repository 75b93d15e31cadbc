/**
 * Stored log lines as the API serves them, one `<ISO time> <mark> <text>` line each (the mark: `!` for
 * stderr, `#` for pushci's own lines, a space for stdout). `joined` is a slice of a job's log with its
 * lines joined by newlines (log-range-1.lua). A piece without the `<ms>\t<stream>\t` head is the rest
 * of a line stored before lines were split at newlines: it is served as it was then, on a line of its own.
 * One pass over one string: a fast step's follower formats a hundred thousand lines a second.
 */
export function formatLog(joined: string): string {
  if (joined.length === 0) return '';
  let out = '';
  // A fast step's lines share their millisecond by the hundred: its ISO text is made once.
  let lastMs = '';
  let lastIso = '';
  let pos = 0;
  for (;;) {
    let end = joined.indexOf('\n', pos);
    if (end < 0) end = joined.length;
    const a = joined.indexOf('\t', pos);
    const b = a < 0 || a >= end ? -1 : joined.indexOf('\t', a + 1);
    const ms = b < 0 || b >= end ? '' : joined.slice(pos, a);
    if (ms !== '' && ms !== lastMs) {
      const t = new Date(Number(ms));
      if (!Number.isNaN(t.getTime())) {
        lastMs = ms;
        lastIso = t.toISOString();
      }
    }
    if (ms === '' || ms !== lastMs) out += `${joined.slice(pos, end)}\n`;
    else {
      const stream = joined.charCodeAt(a + 1);
      // 'e'rr and 's'ys; anything else is stdout.
      const mark = stream === 101 ? '!' : stream === 115 ? '#' : ' ';
      out += `${lastIso} ${mark} ${joined.slice(b + 1, end)}\n`;
    }
    if (end === joined.length) return out;
    pos = end + 1;
  }
}
