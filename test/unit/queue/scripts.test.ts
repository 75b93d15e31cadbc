import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import {
  COMMAND_FILES,
  readHeader,
  readScript,
  scriptFiles,
  withScripts,
} from '../../../src/queue/scripts.ts';

/** The highest literal index a script body uses, e.g. `KEYS[3]` (computed ones like `KEYS[k]` aside). */
function highestLiteral(lua: string, kind: 'KEYS' | 'ARGV'): number {
  const body = lua.replace(/^--\[\[[\s\S]*?\]\]/, '');
  return Math.max(0, ...[...body.matchAll(new RegExp(`${kind}\\[(\\d+)\\]`, 'g'))].map((m) => Number(m[1])));
}

describe('Lua scripts in files', () => {
  it('reads a header: numbered entries, ranges and a variadic rest', () => {
    const h = readHeader(
      '--[[\n  KEYS[1] a\n  KEYS[2] .. KEYS[4] b\n  KEYS[5...] c\n  ARGV[1] x\n]]\nreturn 1',
    );
    assert.deepEqual(h.keys.numbers, [1, 2, 3, 4, 5]);
    assert.equal(h.keys.variadic, true);
    assert.deepEqual(h.argv.numbers, [1]);
    assert.equal(h.argv.variadic, false);
    assert.deepEqual(readHeader('return 1').keys.numbers, [], 'no header, no entries');
  });

  for (const file of scriptFiles()) {
    it(`${file}: its header names every KEYS and ARGV entry its body and its key count use`, () => {
      const s = readScript(file);
      assert.ok(s.keys.numbers.length + s.argv.numbers.length > 0, 'a header with KEYS and ARGV lines');
      for (const e of [s.keys, s.argv])
        assert.deepEqual(
          e.numbers,
          e.numbers.map((_, i) => i + 1),
          `entries numbered 1, 2, 3… without gaps: ${e.lines.join(' | ')}`,
        );
      if (s.numberOfKeys === undefined) {
        assert.ok(
          s.keys.variadic,
          'a file without a key count in its name takes any number of keys (KEYS[n...])',
        );
      } else {
        assert.equal(s.keys.variadic, false, 'a fixed key count has no KEYS[n...]');
        assert.equal(
          s.keys.numbers.length,
          s.numberOfKeys,
          'the key count in its name is the KEYS its header names',
        );
      }
      assert.ok(
        highestLiteral(s.lua, 'KEYS') <= s.keys.numbers.length,
        'the body reads no KEYS entry the header omits',
      );
      if (!s.argv.variadic)
        assert.ok(
          highestLiteral(s.lua, 'ARGV') <= s.argv.numbers.length,
          'the body reads no ARGV entry the header omits',
        );
    });
  }

  it('every file is a command, and every command has a file', () => {
    assert.deepEqual(Object.values(COMMAND_FILES).toSorted(), scriptFiles().toSorted());
  });

  it('defines each command with the key count of its file', () => {
    const defined: Record<string, number | undefined> = {};
    const fake = {
      defineCommand(name: string, def: { numberOfKeys?: number }) {
        defined[name] = def.numberOfKeys;
      },
    } as unknown as Redis;
    withScripts(fake);
    for (const [name, file] of Object.entries(COMMAND_FILES))
      assert.equal(defined[name], readScript(file).numberOfKeys, name);
  });

  it('no TypeScript file under src/ holds a Lua script: they all live in queue/lua/', () => {
    const src = join(import.meta.dirname, '../../../src');
    const holding = (readdirSync(src, { recursive: true, encoding: 'utf8' }) as string[])
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /redis\.(?:call|pcall)\(/.test(readFileSync(join(src, f), 'utf8')));
    assert.deepEqual(holding, []);
  });
});
