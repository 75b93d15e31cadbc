import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { rewriteRunScript } from '../../../src/pipelines/run-script.ts';

/** Runs the rewritten script in a real bash with the variables set, as the worker does. */
function run(script: string, values: string[]): string {
  const r = rewriteRunScript(script);
  assert.deepEqual(r.problems, []);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  r.expressions.forEach((e, i) => (env[e.variable] = values[i] ?? ''));
  return execFileSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', r.script], {
    env,
    encoding: 'utf8',
  });
}

describe('${{ }} in run scripts become variables', () => {
  const table: Array<[string, string]> = [
    ['echo ${{ x }}', 'echo ${PUSHCI_EXPR_1}'],
    ['echo "${{ x }}"', 'echo "${PUSHCI_EXPR_1}"'],
    ["echo '${{ x }}'", `echo ''"\${PUSHCI_EXPR_1}"''`],
    ["echo $'a ${{ x }}'", `echo $'a '"\${PUSHCI_EXPR_1}"$''`],
    ['echo ${{ x }}${{ y }} ${{ x }}', 'echo ${PUSHCI_EXPR_1}${PUSHCI_EXPR_2} ${PUSHCI_EXPR_1}'],
    ['echo "$(echo \'${{ x }}\')"', `echo "$(echo ''"\${PUSHCI_EXPR_1}"'')"`],
    ['echo "it\'s ${{ x }}"', `echo "it's \${PUSHCI_EXPR_1}"`],
    ["# it's ${{ x }}\necho '${{ x }}'", `# it's \${PUSHCI_EXPR_1}\necho ''"\${PUSHCI_EXPR_1}"''`],
    [
      "cat <<EOF\nit's ${{ x }}\nEOF\necho '${{ y }}'",
      `cat <<EOF\nit's \${PUSHCI_EXPR_1}\nEOF\necho ''"\${PUSHCI_EXPR_2}"''`,
    ],
  ];
  for (const [script, expected] of table) {
    it(JSON.stringify(script), () => assert.equal(rewriteRunScript(script).script, expected));
  }

  it('values reach bash as data, whatever they hold', () => {
    const hostile = [
      '$(touch /tmp/pushci-pwned-unit)',
      '`id`',
      `"; id; echo "`,
      `'; id; echo '`,
      'a\nid',
      '$HOME',
    ];
    for (const v of hostile) {
      assert.equal(run('printf "%s|" "${{ x }}"', [v]), `${v}|`);
      assert.equal(run("printf '%s|' '${{ x }}'", [v]), `${v}|`);
      assert.equal(run('printf "%s|" "$(echo \'${{ x }}\')"', [v]), `${v}|`);
      assert.equal(run('cat <<EOF\n${{ x }}\nEOF', [v]), `${v}\n`);
    }
  });

  it('unquoted values split into words but never run', () => {
    assert.equal(run('printf "%s|" ${{ x }}', ['--ci --verbose']), '--ci|--verbose|');
    assert.equal(run('printf "%s|" ${{ x }}', ['$(id) `id`']), '$(id)|`id`|');
    assert.equal(run('printf "%s|" ${{ x }}', ['a;id']), 'a;id|');
  });

  it('reports an expression inside a quoted heredoc', () => {
    const r = rewriteRunScript("cat <<'EOF'\n${{ x }}\nEOF\n");
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]!.offset, 12);
    assert.match(r.problems[0]!.message, /quoted heredoc/);
  });
});
