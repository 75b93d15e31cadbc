import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLog } from '../../../src/http/format-log.ts';
import { encodeLine, type LogLine } from '../../../src/runner/job-log.ts';

const t0 = Date.UTC(2026, 0, 1, 12, 0, 0, 5);
const joined = (lines: LogLine[]) => lines.map(encodeLine).join('\n');

describe('formatLog', () => {
  it('serves each stored line as `<ISO time> <mark> <text>`, stdout blank, stderr !, pushci #', () => {
    const text = formatLog(
      joined([
        { t: t0, s: 'out', m: 'hello' },
        { t: t0, s: 'err', m: 'oops\tsee the tab' },
        { t: t0 + 1001, s: 'sys', m: 'pushci: step "a" succeeded' },
        { t: t0 + 1001, s: 'out', m: '' },
      ]),
    );
    assert.equal(
      text,
      '2026-01-01T12:00:00.005Z   hello\n' +
        '2026-01-01T12:00:00.005Z ! oops\tsee the tab\n' +
        '2026-01-01T12:00:01.006Z # pushci: step "a" succeeded\n' +
        '2026-01-01T12:00:01.006Z   \n',
    );
  });

  it('serves nothing for an empty slice', () => {
    assert.equal(formatLog(''), '');
  });

  it('serves the rest of a line stored with newlines (before they were split) as it was', () => {
    const legacy = encodeLine({ t: t0, s: 'sys', m: 'pushci: error: git said\nfatal: bad object\n' });
    assert.equal(
      formatLog(`${legacy}\n${encodeLine({ t: t0 + 1, s: 'out', m: 'next' })}`),
      '2026-01-01T12:00:00.005Z # pushci: error: git said\nfatal: bad object\n\n2026-01-01T12:00:00.006Z   next\n',
    );
  });

  it('keeps a piece whose head is no time as text, never throws on it', () => {
    assert.equal(
      formatLog('abc\tout\tx\n99999999999999999999\tout\ty'),
      'abc\tout\tx\n99999999999999999999\tout\ty\n',
    );
  });
});
