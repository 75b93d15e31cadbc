import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewayHint } from '../../../src/runner/gateway-hint.ts';

const GATEWAY = {
  ACTIONS_CACHE_URL: 'http://127.0.0.1:41000/',
  ACTIONS_RESULTS_URL: 'http://127.0.0.1:41000/',
  ACTIONS_RUNTIME_TOKEN: 'token',
};

describe('gatewayHint', () => {
  it('names the runtime variables a run: script uses but was not given, once each', () => {
    const hint = gatewayHint(
      'build',
      'curl "$ACTIONS_CACHE_URL" -H "Bearer ${ACTIONS_RUNTIME_TOKEN}"; echo $ACTIONS_CACHE_URL',
      {},
      GATEWAY,
    );
    assert.ok(hint);
    assert.match(hint, /step "build" names ACTIONS_CACHE_URL, ACTIONS_RUNTIME_TOKEN, which a run: step/);
    assert.match(hint, /\$GITHUB_ENV/);
    assert.match(hint, /crazy-max\/ghaction-github-runtime/);
  });

  it('says nothing when the step has them (passed on through $GITHUB_ENV, or its own env:)', () => {
    assert.equal(gatewayHint('s', 'echo $ACTIONS_CACHE_URL', GATEWAY, GATEWAY), null);
    assert.equal(
      gatewayHint('s', 'echo $ACTIONS_CACHE_URL', { ACTIONS_CACHE_URL: 'http://mine/' }, GATEWAY),
      null,
    );
  });

  it('says nothing for a script that does not name them, or only a longer name', () => {
    assert.equal(gatewayHint('s', 'npm ci && npm test', {}, GATEWAY), null);
    assert.equal(gatewayHint('s', 'echo $MY_ACTIONS_CACHE_URL_X $ACTIONS_CACHE_URLS', {}, GATEWAY), null);
  });

  it('says nothing when the job has no gateway at all (its log already says why)', () => {
    assert.equal(gatewayHint('s', 'echo $ACTIONS_CACHE_URL', {}, {}), null);
  });
});
