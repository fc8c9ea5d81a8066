import { describe, expect, it } from 'vitest';
import { classifyAddress, describeBlockedAddress, isLocalhostName } from './address-policy.js';

describe('classifyAddress', () => {
  it.each(['8.8.8.8', '93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])('%s is public', (ip) => {
    expect(classifyAddress(ip).public).toBe(true);
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.3.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2002:7f00:1::', '6to4'],
    ['2001::1', 'teredo'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['not-an-ip', 'invalid'],
  ])('%s is refused (%s)', (ip, range) => {
    expect(classifyAddress(ip)).toEqual({ public: false, range });
  });

  it('describes a refusal for the execution log', () => {
    expect(describeBlockedAddress('10.0.0.5', 'private')).toBe('10.0.0.5 is a private address');
    expect(describeBlockedAddress('::1', 'loopback')).toBe('::1 is a loopback address');
    expect(describeBlockedAddress('2001:db8::1', 'reserved')).toBe('2001:db8::1 is a non-public address');
  });

  it('knows the names that are local by definition', () => {
    expect(['localhost', 'LOCALHOST.', 'api.localhost'].every(isLocalhostName)).toBe(true);
    expect(['localhost.example.com', 'mylocalhost', 'example.com'].some(isLocalhostName)).toBe(false);
  });
});
