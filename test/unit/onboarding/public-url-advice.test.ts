import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { publicUrlAdvice } from '../../../src/onboarding/public-url-advice.ts';

describe('publicUrlAdvice', () => {
  it('has nothing to say about a public https URL', () => {
    assert.deepEqual(publicUrlAdvice('https://ci.example.com'), []);
    assert.deepEqual(publicUrlAdvice('https://93.184.216.34:8443/pushci'), []);
  });

  const cases: Array<[string, RegExp[]]> = [
    ['http://localhost:3000', [/local name/, /plain http/]],
    ['https://pushci.localhost', [/local name/]],
    ['https://127.0.0.1:3000', [/internal address/]],
    ['https://[::1]:3000', [/internal address/]],
    ['https://10.1.2.3', [/internal address/]],
    ['https://192.168.1.20', [/internal address/]],
    ['http://ci.example.com', [/plain http/]],
  ];
  for (const [url, expected] of cases)
    it(`warns about ${url}`, () => {
      const advice = publicUrlAdvice(url);
      assert.equal(advice.length, expected.length, JSON.stringify(advice));
      advice.forEach((a, i) => {
        assert.equal(a.status, 'warn');
        assert.match(a.detail, expected[i]!);
      });
    });

  it('fails what is not an http(s) URL', () => {
    assert.equal(publicUrlAdvice('ci.example.com')[0]?.status, 'fail');
    assert.equal(publicUrlAdvice('ftp://ci.example.com')[0]?.status, 'fail');
  });
});
