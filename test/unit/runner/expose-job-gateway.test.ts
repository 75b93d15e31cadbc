import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { usesGateway } from '../../../src/runner/expose-job-gateway.ts';

const gateway = {
  ACTIONS_CACHE_URL: 'http://127.0.0.1:41234/',
  ACTIONS_RESULTS_URL: 'http://127.0.0.1:41234/',
  ACTIONS_RUNTIME_TOKEN: 'a.b.',
};

describe('which steps get the job gateway forwarded', () => {
  it('a step whose environment holds the gateway’s URL (an action, or one given it through $GITHUB_ENV)', () => {
    assert.equal(usesGateway({ ...gateway, PATH: '/usr/bin' }, gateway), true);
    assert.equal(usesGateway({ ACTIONS_RESULTS_URL: gateway.ACTIONS_RESULTS_URL }, gateway), true);
    assert.equal(usesGateway({ ACTIONS_CACHE_URL: gateway.ACTIONS_CACHE_URL }, gateway), true);
  });

  it('not a plain run: step, nor one pointing the variables elsewhere, nor any when the gateway is out of reach', () => {
    assert.equal(usesGateway({ PATH: '/usr/bin' }, gateway), false);
    assert.equal(usesGateway({ ACTIONS_CACHE_URL: 'http://cache.example/' }, gateway), false);
    assert.equal(usesGateway({ ACTIONS_RUNTIME_TOKEN: gateway.ACTIONS_RUNTIME_TOKEN }, gateway), false);
    assert.equal(usesGateway({ ACTIONS_CACHE_URL: 'http://127.0.0.1:41234/' }, {}), false);
  });
});
