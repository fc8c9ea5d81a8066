import { describe, expect, it } from 'vitest';
import { webhookUrlProblem } from './webhook-url.js';

const strict = { allowPrivateNetwork: false };
const lenient = { allowPrivateNetwork: true };

describe('webhookUrlProblem', () => {
  it.each([
    'https://example.com/hook',
    'https://example.com:8443/h?x=1#f',
    'https://example.com:443/h',
    'https://example.com:1/h',
    'https://example.com/a@b?c=@#@',
    'https://8.8.8.8/h',
    'https://[2606:4700::1111]/h',
    'https://[2a00:1450::1]/h',
    'https://[::ffff:8.8.8.8]/h',
    'https://[64:ff9b::808:808]/h',
    'https://[2001:200::1]/h',
    'https://[2003::1]/h',
    'https://a.localhost.example.com/',
  ])('accepts %s', (url) => expect(webhookUrlProblem(url, strict)).toBeNull());

  it.each([
    ['/relative', 'must be an absolute URL'],
    ['https://', 'must be an absolute URL'],
    ['example.com/hook', 'must be an absolute URL'],
    ['http://example.com/hook', 'must use the https scheme'],
    ['ftp://example.com/', 'must use the https scheme'],
    ['https://user:pass@example.com/', 'must not contain user info (user:pass@)'],
    ['https://user@example.com/', 'must not contain user info (user:pass@)'],
    ['https://localhost/hook', 'must not target localhost'],
    ['https://api.localhost/hook', 'must not target api.localhost'],
    ['https://127.0.0.1/', 'must not target 127.0.0.1 (a loopback address)'],
    ['https://2130706433/', 'must not target 127.0.0.1 (a loopback address)'],
    ['https://10.0.0.5/', 'must not target 10.0.0.5 (a private address)'],
    ['https://169.254.169.254/latest/meta-data', 'must not target 169.254.169.254 (a link-local address)'],
    ['https://100.64.1.1/', 'must not target 100.64.1.1 (a carrier-grade NAT address)'],
    ['https://[::1]/', 'must not target ::1 (a loopback address)'],
    ['https://[::ffff:127.0.0.1]/', 'must not target ::ffff:7f00:1 (a loopback address)'],
    ['https://[fd00::1]/', 'must not target fd00::1 (a private address)'],
    [`https://example.com/${'a'.repeat(2048)}`, 'must be at most 2048 characters'],
    // IPv4-compatible and the other non-global IPv6 ranges (the URL parser writes them in hex)
    ['https://[::127.0.0.1]/', 'must not target ::7f00:1 (an IPv4-compatible address embedding 127.0.0.1)'],
    ['https://[::10.0.0.1]/', 'must not target ::a00:1 (an IPv4-compatible address embedding 10.0.0.1)'],
    ['https://[::169.254.169.254]/', 'must not target ::a9fe:a9fe (an IPv4-compatible address embedding 169.254.169.254)'],
    ['https://[::8.8.8.8]/', 'must not target ::808:808 (an IPv4-compatible address embedding 8.8.8.8)'],
    ['https://[::]/', 'must not target :: (an unspecified address)'],
    ['https://[64:ff9b::a00:1]/', 'must not target 64:ff9b::a00:1 (a private address)'],
    ['https://[64:ff9b:1::a00:1]/', 'must not target 64:ff9b:1::a00:1 (a local-use NAT64 address)'],
    ['https://[64:ff9b:1::808:808]/', 'must not target 64:ff9b:1::808:808 (a local-use NAT64 address)'],
    ['https://[100::1]/', 'must not target 100::1 (a discard-only address)'],
    ['https://[100:0:0:1::1]/', 'must not target 100:0:0:1::1 (a dummy-prefix address)'],
    ['https://[2001::1]/', 'must not target 2001::1 (a Teredo address)'],
    ['https://[2001:2::1]/', 'must not target 2001:2::1 (an IETF protocol assignment address)'],
    ['https://[2001:db8::1]/', 'must not target 2001:db8::1 (a documentation address)'],
    ['https://[2002:7f00:1::]/', 'must not target 2002:7f00:1:: (a 6to4 address)'],
    ['https://[3fff::1]/', 'must not target 3fff::1 (a documentation address)'],
    ['https://[5f00::1]/', 'must not target 5f00::1 (an SRv6 segment identifier address)'],
    ['https://[fe80::1]/', 'must not target fe80::1 (a link-local address)'],
    ['https://[fec0::1]/', 'must not target fec0::1 (a site-local address)'],
    ['https://[ff02::1]/', 'must not target ff02::1 (a multicast address)'],
    ['https://[4000::1]/', 'must not target 4000::1 (an IETF-reserved address)'],
    // Port 0 and an empty user-info, which the URL parser drops
    ['https://example.com:0/', 'must not use port 0'],
    ['https://example.com:00/h', 'must not use port 0'],
    ['https://:@example.com/', 'must not contain user info (user:pass@)'],
    ['https://@example.com/', 'must not contain user info (user:pass@)'],
    ['https://:@example.com:0/', 'must not contain user info (user:pass@)'],
    ['https:@example.com/', 'must not contain user info (user:pass@)'],
    ['https:\\\\@example.com/', 'must not contain user info (user:pass@)'],
    ['  https://@example.com/ ', 'must not contain user info (user:pass@)'],
    ['https://\t@example.com/', 'must not contain user info (user:pass@)'],
  ])('rejects %s: %s', (url, problem) => {
    expect(webhookUrlProblem(url, strict)).toBe(problem);
  });

  it('allows http and private targets with --allow-private-network, but keeps the other rules', () => {
    for (const url of ['http://127.0.0.1:8080/h', 'https://10.0.0.5/', 'http://localhost/h', 'https://[::1]/', 'https://[::127.0.0.1]/']) {
      expect(webhookUrlProblem(url, lenient)).toBeNull();
    }
    expect(webhookUrlProblem('ftp://127.0.0.1/', lenient)).toBe('must use the https or http scheme');
    expect(webhookUrlProblem('http://u:p@127.0.0.1/', lenient)).toBe('must not contain user info (user:pass@)');
  });

  it.each([
    ['http://127.0.0.1:0/h', 'must not use port 0'],
    ['https://example.com:0/', 'must not use port 0'],
    ['http://:@127.0.0.1:8080/h', 'must not contain user info (user:pass@)'],
    ['http://@localhost/h', 'must not contain user info (user:pass@)'],
    ['https://:@example.com/', 'must not contain user info (user:pass@)'],
  ])('rejects %s with --allow-private-network too: %s', (url, problem) => {
    expect(webhookUrlProblem(url, lenient)).toBe(problem);
  });
});
