import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionInputVariable, inputValues } from '../../../src/runner/action-inputs.ts';

describe('action inputs', () => {
  it('spells INPUT_ variables as GitHub does', () => {
    assert.equal(actionInputVariable('node-version'), 'INPUT_NODE-VERSION');
    assert.equal(actionInputVariable('shout mode'), 'INPUT_SHOUT_MODE');
  });

  it('takes with:, then defaults; reports missing required inputs and undeclared ones', () => {
    const def = {
      inputs: {
        Name: { required: true, default: null },
        level: { required: false, default: '${{ x }}' },
        opt: { required: false, default: null },
      },
    };
    assert.deepEqual(
      inputValues(def, { name: 'a', extra: 'e' }, (t) => `rendered ${t}`),
      {
        values: { Name: 'a', level: 'rendered ${{ x }}', opt: '', extra: 'e' },
        missing: [],
        unexpected: ['extra'],
      },
    );
    assert.deepEqual(inputValues(def, {}, (t) => t).missing, ['Name']);
  });
});
