import { describe, expect, it } from 'vitest';
import { attemptResult } from './attempt-result.js';
import { describeTransportError, outcomeOfStatus, timeoutMessage, TOO_MANY_INFORMATIONAL_MESSAGE } from './outcome.js';
import { BlockedAddressError } from './ssrf-guard.js';

const failed = (transportError: string) => ({ responseStatus: null, transportError });
const coded = (code: string) => Object.assign(new Error('what the receiver said'), { code });

describe('attemptResult', () => {
  it('maps statuses: 2xx success, 3xx redirect, anything else http_error', () => {
    for (const status of [200, 201, 204, 299]) expect(attemptResult(outcomeOfStatus(status))).toBe('success');
    for (const status of [301, 302, 307, 308]) expect(attemptResult(outcomeOfStatus(status))).toBe('redirect');
    for (const status of [400, 404, 410, 429, 500, 503, 599]) expect(attemptResult(outcomeOfStatus(status))).toBe('http_error');
  });

  it('maps failures as the sender words them: blocked, timeout, and every other one a connection error', () => {
    expect(attemptResult(failed(describeTransportError(new BlockedAddressError('127.0.0.1 is a loopback address'), 10_000)))).toBe('blocked');
    expect(attemptResult(failed(timeoutMessage(10_000)))).toBe('timeout');
    expect(attemptResult(failed(describeTransportError(coded('UND_ERR_HEADERS_TIMEOUT'), 250)))).toBe('timeout');
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'HPE_INVALID_CONSTANT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'WHATEVER']) {
      expect(attemptResult(failed(describeTransportError(coded(code), 10_000))), code).toBe('connection_error');
    }
    expect(attemptResult(failed(TOO_MANY_INFORMATIONAL_MESSAGE))).toBe('connection_error');
  });
});
