import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseActionFile } from '../../../src/pipelines/action-file.ts';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';

const problems = (text: string) => parseActionFile('a/action.yml', text).diagnostics.map(formatDiagnostic);

describe('parseActionFile', () => {
  it('reads a composite action: inputs, outputs, steps with ${{ }} as data', () => {
    const { action, diagnostics } = parseActionFile(
      'a/action.yml',
      `name: Build
inputs:
  target:
    required: true
  level:
    default: 3
  quiet:
outputs:
  out:
    value: \${{ steps.b.outputs.x }}
runs:
  using: composite
  steps:
    - id: b
      shell: bash
      run: make "\${{ inputs.target }}"
    - uses: ./other
      with:
        n: 1
`,
    );
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(action!.inputs, {
      target: { required: true, default: null },
      level: { required: false, default: '3' },
      quiet: { required: false, default: null },
    });
    assert.deepEqual(action!.outputs, { out: '${{ steps.b.outputs.x }}' });
    assert.equal(action!.runs.using, 'composite');
    const steps = action!.runs.using === 'composite' ? action!.runs.steps : [];
    assert.equal(steps[0]!.script, 'make "${PUSHCI_EXPR_1}"');
    assert.deepEqual(steps[0]!.expressions, [{ variable: 'PUSHCI_EXPR_1', source: ' inputs.target ' }]);
    assert.equal(steps[1]!.uses, './other');
    assert.deepEqual(steps[1]!.with, { n: '1' });
  });

  it('reads a node action with pre and post', () => {
    const { action } = parseActionFile(
      'a/action.yml',
      `name: N\nruns:\n  using: node20\n  main: dist/index.js\n  pre: dist/pre.js\n  post: dist/post.js\n  post-if: success()\n`,
    );
    assert.deepEqual(action!.runs, {
      using: 'node20',
      main: 'dist/index.js',
      pre: 'dist/pre.js',
      post: 'dist/post.js',
      preIf: null,
      postIf: 'success()',
    });
  });

  it('reports every problem at its line and column', () => {
    assert.deepEqual(
      problems(`name: X
colour: blue
inputs:
  a:
    required: perhaps
runs:
  using: composite
  steps:
    - shell: bash
    - run: echo
      uses: ./x
    - id: 1bad
      run: echo
`),
      [
        'a/action.yml:2:1: unknown key "colour" in an action file (expected one of: name, description, author, inputs, outputs, runs, branding)',
        'a/action.yml:5:15: required must be true or false',
        'a/action.yml:9:7: a step has either run: or uses:',
        'a/action.yml:10:7: a step has either run: or uses:',
        'a/action.yml:12:11: step ids are letters, digits, _ and -, starting with a letter or _',
      ],
    );
    assert.deepEqual(problems(`runs:\n  using: node20\n  main: ../../etc/x.js\n`), [
      'a/action.yml:3:9: main must be a path inside the action (relative, without "..")',
    ]);
    assert.deepEqual(problems(`runs:\n  using: java\n`), [
      'a/action.yml:2:10: runs.using "java" is not known (composite, node12, node16, node20, node24 or docker)',
    ]);
    assert.deepEqual(problems(`name: x\n`), [
      'a/action.yml:1:1: missing required key "runs": how the action runs (using: composite, node20, …)',
    ]);
    assert.match(problems('runs: [\n')[0]!, /^a\/action\.yml:\d+:\d+: /);
  });
});
