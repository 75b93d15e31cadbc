import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCreate, parsePatch } from '../../../src/notify/endpoint-schema.ts';
import { checkEndpointUrl } from '../../../src/notify/check-endpoint-url.ts';
import { createAddressGuard } from '../../../src/notify/ssrf.ts';

describe('endpoint requests', () => {
  it('accepts a full request and names every problem of a bad one', () => {
    const ok = parseCreate({
      url: 'https://example.com/h',
      events: ['build.completed'],
      pipelines: ['web', '!web-old'],
      branches: ['main'],
      description: 'x',
      on_pause: 'drop',
    });
    assert.equal(ok.on_pause, 'drop');
    assert.throws(() => parseCreate({}), /url/);
    assert.throws(() => parseCreate({ url: 'https://e.com', colour: 'red' }), /colour/);
    assert.throws(() => parseCreate({ url: 'https://e.com', events: [] }), /events/);
    assert.throws(() => parseCreate({ url: 'https://e.com', events: ['push'] }), /unknown event type "push"/);
    assert.throws(() => parseCreate({ url: 'https://e.com', on_pause: 'hold' }), /on_pause/);
    assert.throws(() => parsePatch({ secret: 'whsec_x' }), /secret/, 'secrets change only by rotation');
    assert.throws(() => parsePatch({ pipelines: ['[a-'] }), /pipelines\.0/);
  });

  it('checks the address policy at registration, with the reason', async () => {
    const guard = createAddressGuard([]);
    assert.equal(await checkEndpointUrl('http://93.184.215.14/x', guard), 'http://93.184.215.14/x');
    await assert.rejects(
      checkEndpointUrl('http://127.0.0.1/x', guard),
      /127\.0\.0\.1 is an internal address/,
    );
    await assert.rejects(
      checkEndpointUrl('http://localhost:9/x', guard),
      /localhost resolves to (\S+), and \1 is an internal address/,
    );
    await assert.rejects(checkEndpointUrl('http://0x7f000001/x', guard), /internal address/);
    await assert.rejects(checkEndpointUrl('http://[fd00:ec2::254]/', guard), /internal address/);
    await assert.rejects(checkEndpointUrl('https://e.com/#frag', guard), /fragment/);
    const allowing = createAddressGuard(['127.0.0.1/32', 'localhost']);
    assert.equal(await checkEndpointUrl('http://127.0.0.1:9/x', allowing), 'http://127.0.0.1:9/x');
  });
});
