import { describe, expect, it } from 'vitest';
import { webhookUrlProblem } from './webhook-url.js';

const strict = { allowPrivateNetwork: false };
const lenient = { allowPrivateNetwork: true };

describe('webhookUrlProblem', () => {
  it.each(['https://example.com/hook', 'https://example.com:8443/h?x=1#f', 'https://8.8.8.8/h', 'https://[2606:4700::1111]/h', 'https://a.localhost.example.com/'])(
    'accepts %s',
    (url) => expect(webhookUrlProblem(url, strict)).toBeNull(),
  );

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
  ])('rejects %s: %s', (url, problem) => {
    expect(webhookUrlProblem(url, strict)).toBe(problem);
  });

  it('allows http and private targets with --allow-private-network, but keeps the other rules', () => {
    for (const url of ['http://127.0.0.1:8080/h', 'https://10.0.0.5/', 'http://localhost/h', 'https://[::1]/']) {
      expect(webhookUrlProblem(url, lenient)).toBeNull();
    }
    expect(webhookUrlProblem('ftp://127.0.0.1/', lenient)).toBe('must use the https or http scheme');
    expect(webhookUrlProblem('http://u:p@127.0.0.1/', lenient)).toBe('must not contain user info (user:pass@)');
  });
});
