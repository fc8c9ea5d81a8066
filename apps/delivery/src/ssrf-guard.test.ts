import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { BlockedAddressError, blockedReason, createConnector, guardedLookup, type Resolver } from './ssrf-guard.js';

const answering =
  (...addresses: LookupAddress[]): Resolver =>
  (_host, _options, callback) =>
    callback(null, addresses);

function lookup(resolver: Resolver, all: boolean): Promise<{ error: Error | null; address: unknown; family?: number }> {
  return new Promise((resolve) =>
    guardedLookup(resolver)('hooks.example.com', { all }, (error, address, family) => resolve({ error, address, family })),
  );
}

describe('blockedReason', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1 is a loopback address'],
    ['10.1.2.3', '10.1.2.3 is a private address'],
    ['172.16.0.1', '172.16.0.1 is a private address'],
    ['192.168.1.1', '192.168.1.1 is a private address'],
    ['169.254.169.254', '169.254.169.254 is a link-local address'],
    ['100.64.0.1', '100.64.0.1 is a carrier-grade NAT address'],
    ['0.0.0.0', '0.0.0.0 is an unspecified address'],
    ['224.0.0.1', '224.0.0.1 is a multicast address'],
    ['::1', '::1 is a loopback address'],
    ['fd00::1', 'fd00::1 is a private address'],
    ['fe80::1', 'fe80::1 is a link-local address'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1 is a loopback address'],
    ['64:ff9b::a00:1', '64:ff9b::a00:1 is a private address'],
    // IPv4-compatible (::/96) and the other non-global IPv6 ranges
    ['::7f00:1', '::7f00:1 is an IPv4-compatible address embedding 127.0.0.1'],
    ['::127.0.0.1', '::127.0.0.1 is an IPv4-compatible address embedding 127.0.0.1'],
    ['::a00:1', '::a00:1 is an IPv4-compatible address embedding 10.0.0.1'],
    ['::a9fe:a9fe', '::a9fe:a9fe is an IPv4-compatible address embedding 169.254.169.254'],
    ['::808:808', '::808:808 is an IPv4-compatible address embedding 8.8.8.8'],
    ['64:ff9b:1::808:808', '64:ff9b:1::808:808 is a local-use NAT64 address'],
    ['100::1', '100::1 is a discard-only address'],
    ['2001:db8::1', '2001:db8::1 is a documentation address'],
    ['5f00::1', '5f00::1 is an SRv6 segment identifier address'],
    ['4000::1', '4000::1 is an IETF-reserved address'],
  ])('refuses %s', (address, reason) => {
    expect(blockedReason([address])).toBe(reason);
  });

  it.each(['93.184.215.14', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450::1', '::ffff:8.8.8.8', '64:ff9b::808:808'])('allows public %s', (address) => {
    expect(blockedReason([address])).toBeNull();
  });

  it('refuses when any of several answers is non-public, and an empty answer', () => {
    expect(blockedReason(['1.1.1.1', '10.0.0.1'])).toBe('10.0.0.1 is a private address');
    expect(blockedReason([])).toBe('the host resolved to no address');
  });
});

describe('guardedLookup', () => {
  it('passes public answers through in both callback shapes', async () => {
    const resolver = answering({ address: '1.1.1.1', family: 4 }, { address: '2606:4700:4700::1111', family: 6 });
    expect(await lookup(resolver, true)).toMatchObject({ error: null, address: [{ address: '1.1.1.1', family: 4 }, { address: '2606:4700:4700::1111', family: 6 }] });
    expect(await lookup(resolver, false)).toMatchObject({ error: null, address: '1.1.1.1', family: 4 });
  });

  it('fails the connection when a name resolves to an IPv4-compatible IPv6 address', async () => {
    const { error } = await lookup(answering({ address: '::7f00:1', family: 6 }), false);
    expect(error).toBeInstanceOf(BlockedAddressError);
    expect(error!.message).toBe('blocked: ::7f00:1 is an IPv4-compatible address embedding 127.0.0.1');
  });

  it('fails the connection with a BlockedAddressError when an answer is private', async () => {
    const { error } = await lookup(answering({ address: '1.1.1.1', family: 4 }, { address: '127.0.0.1', family: 4 }), true);
    expect(error).toBeInstanceOf(BlockedAddressError);
    expect(error!.message).toBe('blocked: 127.0.0.1 is a loopback address');
  });

  it('asks the resolver for every address and passes DNS errors on', async () => {
    let asked: unknown;
    const failing: Resolver = (_host, options, callback) => {
      asked = options;
      callback(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }), []);
    };
    const { error } = await lookup(failing, false);
    expect(asked).toMatchObject({ all: true });
    expect((error as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });
});

describe('createConnector', () => {
  const connect = (hostname: string) =>
    new Promise<Error | null>((resolve) => {
      createConnector({ allowPrivateNetwork: false, connectTimeoutMs: 1_000 })({ hostname, protocol: 'http:', port: '9' }, (error, socket) => {
        socket?.destroy();
        resolve(error);
      });
    });

  it.each([
    ['127.0.0.1', 'blocked: 127.0.0.1 is a loopback address'],
    ['::1', 'blocked: ::1 is a loopback address'],
    ['[::1]', 'blocked: ::1 is a loopback address'],
    ['::ffff:7f00:1', 'blocked: ::ffff:7f00:1 is a loopback address'],
    ['169.254.169.254', 'blocked: 169.254.169.254 is a link-local address'],
    ['::7f00:1', 'blocked: ::7f00:1 is an IPv4-compatible address embedding 127.0.0.1'],
    ['[::7f00:1]', 'blocked: ::7f00:1 is an IPv4-compatible address embedding 127.0.0.1'],
    ['[::a9fe:a9fe]', 'blocked: ::a9fe:a9fe is an IPv4-compatible address embedding 169.254.169.254'],
    ['[64:ff9b:1::a00:1]', 'blocked: 64:ff9b:1::a00:1 is a local-use NAT64 address'],
  ])('refuses the literal %s before opening a socket', async (hostname, message) => {
    const error = await connect(hostname);
    expect(error).toBeInstanceOf(BlockedAddressError);
    expect(error!.message).toBe(message);
  });
});
