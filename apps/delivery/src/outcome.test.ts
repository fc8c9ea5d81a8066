import { describe, expect, it } from 'vitest';
import { BlockedAddressError } from './ssrf-guard.js';
import { describeTransportError, outcomeOfStatus, TOO_MANY_INFORMATIONAL_MESSAGE } from './outcome.js';

const coded = (code: string, message = 'something the receiver said: SECRET') => Object.assign(new Error(message), { code });

describe('outcomeOfStatus', () => {
  it('keeps every status; only 3xx carries a transport error (redirects are not followed)', () => {
    expect(outcomeOfStatus(200)).toEqual({ responseStatus: 200, transportError: null });
    expect(outcomeOfStatus(500)).toEqual({ responseStatus: 500, transportError: null });
    expect(outcomeOfStatus(302)).toEqual({ responseStatus: 302, transportError: 'redirect not followed (HTTP 302)' });
    expect(outcomeOfStatus(308)).toEqual({ responseStatus: 308, transportError: 'redirect not followed (HTTP 308)' });
  });
});

describe('describeTransportError', () => {
  it.each([
    [coded('ECONNREFUSED'), 'connection refused'],
    [coded('ECONNRESET'), 'connection reset'],
    [coded('UND_ERR_SOCKET'), 'connection closed before a response'],
    [coded('UND_ERR_CONNECT_TIMEOUT'), 'timeout after 10000 ms'],
    [coded('UND_ERR_HEADERS_TIMEOUT'), 'timeout after 10000 ms'],
    [coded('ENOTFOUND'), 'host not found'],
    [coded('EAI_AGAIN'), 'dns lookup failed (EAI_AGAIN)'],
    [coded('EHOSTUNREACH'), 'host unreachable'],
    [coded('ERR_TLS_CERT_ALTNAME_INVALID'), 'tls error: certificate does not match the host'],
    [coded('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls error: self-signed certificate'],
    [coded('ERR_SSL_WRONG_VERSION_NUMBER'), 'tls error (ERR_SSL_WRONG_VERSION_NUMBER)'],
    [coded('HPE_INVALID_CONSTANT'), 'invalid HTTP response'],
    [coded('E_TOO_MANY_INFORMATIONAL'), 'too many informational (1xx) responses'],
    [coded('EWHATEVER'), 'request failed (EWHATEVER)'],
    [new TypeError('boom SECRET'), 'request failed (TypeError)'],
    [new BlockedAddressError('10.0.0.5 is a private address'), 'blocked: 10.0.0.5 is a private address'],
  ])('describes %s', (error, message) => {
    expect(describeTransportError(error, 10_000)).toBe(message);
  });

  it('names the informational flood in the same short words the sender records', () => {
    expect(TOO_MANY_INFORMATIONAL_MESSAGE).toBe('too many informational (1xx) responses');
  });

  it('looks through wrapped causes', () => {
    const wrapped = new Error('fetch failed', { cause: coded('ECONNREFUSED') });
    expect(describeTransportError(wrapped, 1_000)).toBe('connection refused');
    const blocked = new Error('outer', { cause: new BlockedAddressError('::1 is a loopback address') });
    expect(describeTransportError(blocked, 1_000)).toBe('blocked: ::1 is a loopback address');
  });

  it('never repeats an error message (they may carry what the receiver sent)', () => {
    for (const error of [coded('EWHATEVER'), new Error('SECRET'), coded('HPE_X')]) {
      expect(describeTransportError(error, 1)).not.toContain('SECRET');
    }
  });
});
