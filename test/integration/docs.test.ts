import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SETTINGS } from '../../src/config.ts';

const ROOT = join(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The rows of the first Markdown table after `heading` (cells trimmed, header and rule skipped). */
function tableAfter(heading: string): string[][] {
  const at = README.indexOf(heading);
  assert.ok(at >= 0, `the README has "${heading}"`);
  const lines = README.slice(at).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows.slice(2);
}

describe('the README cannot drift from the code', () => {
  it('the CLI table lists exactly the commands pushci --help lists, in its order', () => {
    const help = execFileSync(process.execPath, [join(ROOT, 'src/cli.ts'), '--help'], { encoding: 'utf8' });
    const listed = [...help.matchAll(/^ {2}pushci ([a-z-]+)/gm)].map((m) => m[1]!);
    assert.ok(listed.length >= 10, help);
    const documented = tableAfter('The CLI: `npx pushci <command>`').map(
      (row) => /^`pushci ([a-z-]+)/.exec(row[0]!)?.[1] ?? row[0],
    );
    assert.deepEqual(documented, listed);
  });

  it('the configuration table has one row per setting, with its flag and default', () => {
    const rows = tableAfter('## Configuration');
    const byEnv = new Map(rows.map((r) => [r[0]!.replaceAll('`', ''), r]));
    for (const s of SETTINGS) {
      const row = byEnv.get(s.env);
      assert.ok(row, `${s.env} has a row in the README's configuration table`);
      assert.equal(row[1]!.replaceAll('`', ''), `--${s.flag}`, `${s.env}'s flag`);
      const dflt = row[2]!.replaceAll('`', '');
      if (s.default === undefined) assert.equal(dflt, '—', `${s.env} has no default`);
      else assert.ok(dflt.includes(s.default), `${s.env}'s default ${s.default} (README: ${dflt})`);
    }
    assert.deepEqual(
      [...byEnv.keys()].filter((env) => !SETTINGS.some((s) => s.env === env)),
      [],
      'rows for settings pushci does not read',
    );
  });
});
