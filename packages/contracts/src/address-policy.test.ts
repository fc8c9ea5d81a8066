import { describe, expect, it } from 'vitest';
import { classifyAddress, describeBlockedAddress, isLocalhostName, rangeKind } from './address-policy.js';

describe('classifyAddress', () => {
  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '2606:4700::1111',
    '2a00:1450::1',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    // Public neighbours of the refused IPv6 ranges below.
    '2000::1',
    '2001:200::1', // just past 2001::/23
    '2001:db9::1', // just past 2001:db8::/32
    '2003::1', // just past 2002::/16
    '3fff:1000::1', // just past 3fff::/20
    '3ffe::1',
    '2620:4f:8000::1', // AS112-v6: globally reachable per the registry
  ])('%s is public', (ip) => {
    expect(classifyAddress(ip)).toEqual({ public: true, range: 'unicast' });
  });

  it.each([
    // IPv4 (ipaddr.js ranges)
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.3.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['192.88.99.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.254', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['240.0.0.1', 'reserved'],
    // IPv6: one address in every range of the table
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::7f00:1', 'ipv4Compatible'],
    ['::127.0.0.1', 'ipv4Compatible'],
    ['::a00:1', 'ipv4Compatible'],
    ['::a9fe:a9fe', 'ipv4Compatible'],
    ['::8.8.8.8', 'ipv4Compatible'],
    ['::2', 'ipv4Compatible'],
    ['64:ff9b:1::a00:1', 'localNat64'],
    ['64:ff9b:1::808:808', 'localNat64'],
    ['100::1', 'discard'],
    ['100:0:0:1::1', 'dummyPrefix'],
    ['2001::1', 'teredo'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
    ['2001:2::1', 'ietfProtocol'],
    ['2001:10::1', 'ietfProtocol'],
    ['2001:1ff::1', 'ietfProtocol'],
    ['2001:db8::1', 'documentation'],
    ['2002:7f00:1::', '6to4'],
    ['2002:808:808::1', '6to4'],
    ['3fff::1', 'documentation'],
    ['3fff:fff::1', 'documentation'],
    ['5f00::1', 'segmentRouting'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['febf::1', 'linkLocal'],
    ['fec0::1', 'siteLocal'],
    ['ff02::1', 'multicast'],
    ['ff0e::1', 'multicast'],
    // The rest of the space outside 2000::/3
    ['::1:0:0:1', 'ietfReserved'],
    ['::ffff:0:7f00:1', 'ietfReserved'], // IPv4-translated (RFC 6145), not IPv4-mapped
    ['1::1', 'ietfReserved'],
    ['400::1', 'ietfReserved'],
    ['4000::1', 'ietfReserved'],
    ['8000::1', 'ietfReserved'],
    ['fe00::1', 'ietfReserved'],
    // IPv4-mapped and well-known NAT64: judged by the embedded IPv4
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['not-an-ip', 'invalid'],
  ])('%s is refused (%s)', (ip, range) => {
    expect(classifyAddress(ip)).toEqual({ public: false, range });
  });

  it('reads a dotted IPv4 tail as the IPv6 it spells (ipaddr.js alone reads ::a.b.c.d as IPv4-mapped)', () => {
    expect(classifyAddress('::8.8.8.8')).toEqual(classifyAddress('::808:808'));
    expect(classifyAddress('0:0:0:0:0:0:127.0.0.1')).toEqual({ public: false, range: 'ipv4Compatible' });
    expect(classifyAddress('::ffff:8.8.8.8')).toEqual({ public: true, range: 'unicast' });
    expect(classifyAddress('2606:4700::1.1.1.1')).toEqual({ public: true, range: 'unicast' });
    expect(classifyAddress('1:2:3:4:5:6:1.2.3.4')).toEqual({ public: false, range: 'ietfReserved' });
    expect(classifyAddress('fe80::1%eth0')).toEqual({ public: false, range: 'linkLocal' });
    expect(classifyAddress('::7f00:1%eth0')).toEqual({ public: false, range: 'ipv4Compatible' });
    expect(classifyAddress('fe80::1%eth0.100').public).toBe(false); // a zone ipaddr.js does not parse
    // Forms Node's net.isIP refuses too.
    for (const text of ['::127.000.0.1', '::ffff:0x7f.0.0.1', '::1.2.3', '::256.0.0.1', '1::2::3', '12345::1']) {
      expect(classifyAddress(text)).toEqual({ public: false, range: 'invalid' });
    }
  });

  it('describes a refusal for the execution log', () => {
    expect(describeBlockedAddress('10.0.0.5', 'private')).toBe('10.0.0.5 is a private address');
    expect(describeBlockedAddress('::1', 'loopback')).toBe('::1 is a loopback address');
    expect(describeBlockedAddress('192.0.2.1', 'reserved')).toBe('192.0.2.1 is a non-public address');
  });

  it.each([
    ['::7f00:1', '::7f00:1 is an IPv4-compatible address embedding 127.0.0.1'],
    ['::a9fe:a9fe', '::a9fe:a9fe is an IPv4-compatible address embedding 169.254.169.254'],
    ['64:ff9b:1::a00:1', '64:ff9b:1::a00:1 is a local-use NAT64 address'],
    ['100::1', '100::1 is a discard-only address'],
    ['100:0:0:1::1', '100:0:0:1::1 is a dummy-prefix address'],
    ['2001::1', '2001::1 is a Teredo address'],
    ['2001:2::1', '2001:2::1 is an IETF protocol assignment address'],
    ['2001:db8::1', '2001:db8::1 is a documentation address'],
    ['3fff::1', '3fff::1 is a documentation address'],
    ['2002:7f00:1::', '2002:7f00:1:: is a 6to4 address'],
    ['5f00::1', '5f00::1 is an SRv6 segment identifier address'],
    ['fd00::1', 'fd00::1 is a private address'],
    ['fe80::1', 'fe80::1 is a link-local address'],
    ['fec0::1', 'fec0::1 is a site-local address'],
    ['ff02::1', 'ff02::1 is a multicast address'],
    ['4000::1', '4000::1 is an IETF-reserved address'],
    ['::', ':: is an unspecified address'],
    ['::ffff:7f00:1', '::ffff:7f00:1 is a loopback address'],
  ])('names the range of %s', (address, message) => {
    expect(describeBlockedAddress(address, classifyAddress(address).range)).toBe(message);
  });

  it('names the embedded IPv4 only when it knows the address', () => {
    expect(rangeKind('ipv4Compatible')).toBe('an IPv4-compatible address');
    expect(rangeKind('ipv4Compatible', '::7f00:1')).toBe('an IPv4-compatible address embedding 127.0.0.1');
    expect(rangeKind('somethingNew')).toBe('a non-public address');
  });

  it('knows the names that are local by definition', () => {
    expect(['localhost', 'LOCALHOST.', 'api.localhost'].every(isLocalhostName)).toBe(true);
    expect(['localhost.example.com', 'mylocalhost', 'example.com'].some(isLocalhostName)).toBe(false);
  });
});
