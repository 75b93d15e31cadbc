import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';

const problems = (text: string) =>
  loadPipelineSource('p.yml', Buffer.from(text), {}).diagnostics.map(
    (d) => `${d.line}:${d.col}: ${d.message}`,
  );

/** Words of the `yaml` parser that name its grammar, not the mistake: none may reach a person. */
const PARSER_WORDS =
  /implicit|compact mapping|block collection|flow (sequence|map)|sufficiently|scalar|node end|YAML\.parse|parseAllDocuments|reserved character|^YAML:/i;

describe('YAML syntax errors in plain words', () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      'an unclosed list',
      'on:\n  push:\n    branches: [main\njobs: {}\n',
      /^3:15: this list opened with "\[" is not closed: end it with "\]"/,
    ],
    ['an unclosed map', 'on: {push: {}\njobs: {}\n', /^1:5: this map opened with "\{" is not closed/],
    [
      'keys out of line',
      'on:\n  push: {}\n   pull_request: {}\njobs: {}\n',
      /^3:4: key "pull_request" is indented differently from the keys above it/,
    ],
    [
      'a step key indented one space short',
      'on: push\njobs:\n  a:\n    steps:\n      - name: one\n        run: "true"\n       name: misindented\n        run: "true"\n',
      /^7:8: key "name" is indented by 7 spaces, the key above it by 8: keys of one map line up/,
    ],
    ['a tab', 'on:\n\tpush: {}\n', /^2:1: this line is indented with a tab: YAML indents with spaces only/],
    ['a key twice', 'name: a\nname: b\n', /^2:1: key "name" appears twice in the same map: keep one/],
    [
      'an unclosed double quote',
      'name: "abc\nrepository: x\n',
      /text opened with " is not closed: add the closing "/,
    ],
    [
      'an unclosed single quote',
      "name: 'abc\nrepository: x\n",
      /text opened with ' is not closed: add the closing '/,
    ],
    [
      'a colon in a value',
      'name: echo a: b\n',
      /^1:7: the value of "name" contains ": ", which YAML reads as another key: put the value in quotes/,
    ],
    ['a reserved first character', 'name: `x`\n', /^1:7: a value cannot start with "`" unless it is quoted/],
    [
      'a key without a colon',
      'name: x\nrepository\non: push\n',
      /"repository" is neither "key: value" nor "- item": add the ":" after the key/,
    ],
    [
      'a misindented list item',
      'jobs:\n  a:\n    steps:\n      - run: a\n     - run: b\n',
      /^5:1: this "- item" line is indented less than the list it belongs to/,
    ],
    ['a comment without a space', 'name: x\non: [push]#c\n', /a "#" right after other text: write " #"/],
    [
      'two documents',
      'name: x\n---\nname: y\n',
      /a "---" line starts a second YAML document: a pipeline file holds one pipeline/,
    ],
    [
      'text after a quoted value',
      'name: "x" y\n',
      /more text follows a complete value on this line: quote the whole value/,
    ],
  ];
  for (const [what, text, expected] of cases)
    it(what, () => {
      const got = problems(text);
      const yaml = got.find((m) => expected.test(m));
      assert.ok(yaml, `${what}: ${JSON.stringify(got)}`);
      for (const m of got) assert.doesNotMatch(m, PARSER_WORDS, `no parser words: ${m}`);
    });
});
