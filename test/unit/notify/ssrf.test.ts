import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAddressGuard, unmapIPv4 } from '../../../src/notify/ssrf.ts';

describe('address guard', () => {
  const guard = createAddressGuard([]);
  const refused = [
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.100.100.200',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a00:1',
  ];
  for (const ip of refused)
    it(`refuses ${ip}`, () => assert.match(guard.refusal(ip) ?? '', /internal address/));
  for (const ip of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34']) {
    it(`allows ${ip}`, () => assert.equal(guard.refusal(ip), null));
  }
  it('opens exceptions for allowed CIDRs, addresses and host names', () => {
    const g = createAddressGuard(['127.0.0.1/32', '10.1.0.0/16', '::1', 'hooks.internal']);
    assert.equal(g.refusal('127.0.0.1'), null);
    assert.equal(g.refusal('::ffff:127.0.0.1'), null);
    assert.equal(g.refusal('10.1.2.3'), null);
    assert.notEqual(g.refusal('10.2.0.1'), null);
    assert.equal(g.refusal('::1'), null);
    assert.equal(g.refusal('10.9.9.9', 'hooks.internal'), null);
  });
  it('says which exception would allow a refused address, and that the sender must have it', () => {
    const refused = guard.refusal('127.0.0.1') ?? '';
    assert.match(
      refused,
      /allow it with PUSHCI_NOTIFY_ALLOW=127\.0\.0\.1 in the environment of the pushci that sends/,
    );
    assert.equal(
      createAddressGuard(['127.0.0.1']).refusal('127.0.0.1'),
      null,
      'control: that value allows it',
    );
    assert.match(guard.refusal('10.9.9.9', 'hooks.internal') ?? '', /PUSHCI_NOTIFY_ALLOW=hooks\.internal /);
    assert.equal(createAddressGuard(['hooks.internal']).refusal('10.9.9.9', 'hooks.internal'), null);
  });
  it('unmaps IPv4-mapped IPv6', () => {
    assert.equal(unmapIPv4('::ffff:7f00:1'), '127.0.0.1');
    assert.equal(unmapIPv4('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(unmapIPv4('2001:db8::1'), '2001:db8::1');
  });
  it('refuses a host name that resolves to loopback, at connect time', async () => {
    const err = await new Promise<Error | null>((resolve) =>
      guard.lookup('localhost', { all: true }, (e) => resolve(e)),
    );
    assert.match(String(err?.message), /internal address/);
  });
});
