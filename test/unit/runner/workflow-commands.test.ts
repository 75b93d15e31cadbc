import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKeyValues } from '../../../src/runner/command-files.ts';
import { parseWorkflowCommand } from '../../../src/runner/workflow-commands.ts';
import { stepDebug, workflowCommandReader } from '../../../src/runner/step-files.ts';

describe('workflow commands', () => {
  it('parses annotations with their properties and escapes', () => {
    assert.deepEqual(
      parseWorkflowCommand(
        '::error file=a%2Cb.ts,line=3,endLine=4,col=1,endColumn=9,title=T%3A x::two%0Alines 100%25',
      ),
      {
        kind: 'annotation',
        annotation: {
          level: 'error',
          message: 'two\nlines 100%',
          title: 'T: x',
          file: 'a,b.ts',
          line: 3,
          end_line: 4,
          col: 1,
          end_column: 9,
        },
      },
    );
    assert.equal(parseWorkflowCommand('  ::notice::indented')?.kind, 'annotation');
  });

  it('knows add-mask, stop-commands, debug, set-output and save-state; everything else is output', () => {
    assert.deepEqual(parseWorkflowCommand('::add-mask::s3cr3t'), { kind: 'add-mask', value: 's3cr3t' });
    assert.deepEqual(parseWorkflowCommand('::stop-commands::abc'), { kind: 'stop-commands', token: 'abc' });
    assert.equal(parseWorkflowCommand('::debug::x')?.kind, 'debug');
    assert.deepEqual(parseWorkflowCommand('::set-output name=v::a%0Ab'), {
      kind: 'set-output',
      name: 'v',
      value: 'a\nb',
    });
    assert.deepEqual(parseWorkflowCommand('::save-state name=s::1'), {
      kind: 'save-state',
      name: 's',
      value: '1',
    });
    for (const line of [
      '::set-output::no name',
      '::group::Build',
      '::endgroup::',
      '::set-env name=X::y',
      'plain :: text',
      '::error',
      ':: x ::y',
    ])
      assert.equal(parseWorkflowCommand(line), null, line);
  });
});

describe('GITHUB_OUTPUT / GITHUB_ENV format', () => {
  it('reads name=value and heredoc blocks; later values win', () => {
    const r = parseKeyValues('a=1\nb=x=y\n\nlong<<EOF\none\ntwo=2\nEOF\na=3\r\nempty=\n');
    assert.deepEqual(r.values, { a: '3', b: 'x=y', long: 'one\ntwo=2', empty: '' });
    assert.deepEqual(r.problems, []);
  });

  it('reports what it cannot read', () => {
    const r = parseKeyValues('justtext\nx<<END\nno end');
    assert.deepEqual(r.values, {});
    assert.equal(r.problems.length, 2);
    assert.match(r.problems[0]!, /neither name=value/);
    assert.match(r.problems[1]!, /no closing "END"/);
  });

  it('keeps ::debug:: lines out of the log unless step debugging is on (ACTIONS_STEP_DEBUG)', () => {
    const quiet = workflowCommandReader('s', () => {}, []);
    assert.equal(quiet('::debug::detail'), false);
    assert.equal(quiet('ordinary output'), true);
    assert.equal(quiet('::warning::shown'), true);
    const loud = workflowCommandReader('s', () => {}, [], undefined, true);
    assert.equal(loud('::debug::detail'), true);
    assert.equal(stepDebug({ secrets: { ACTIONS_STEP_DEBUG: 'true' }, vars: {} }), true);
    assert.equal(stepDebug({ secrets: {}, vars: { ACTIONS_STEP_DEBUG: 'TRUE' } }), true);
    assert.equal(stepDebug({ secrets: { ACTIONS_STEP_DEBUG: 'false' }, vars: {} }), false);
    assert.equal(stepDebug({ secrets: {}, vars: {} }), false);
  });
});
