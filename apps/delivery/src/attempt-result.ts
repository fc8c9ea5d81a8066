import type { AttemptResultLabel } from '@handinger-webhooks/contracts';
import type { AttemptOutcome } from './outcome.js';

/** How the sender words the outcomes that are neither a response nor a plain connection failure (see outcome.ts, ssrf-guard.ts). */
const TIMEOUT_PREFIX = 'timeout after ';
const BLOCKED_PREFIX = 'blocked: ';

/**
 * The one result of SPEC §10 an attempt's outcome is: a 2xx is `success`;
 * a 3xx (never followed) `redirect`; any other status `http_error`; without
 * a status, the SSRF guard's refusal is `blocked`, running out of time
 * `timeout`, and every other failure to get an answer (refused, reset, DNS,
 * TLS, a malformed response) `connection_error`.
 */
export function attemptResult(outcome: AttemptOutcome): AttemptResultLabel {
  const status = outcome.responseStatus;
  if (status !== null) {
    if (status >= 200 && status < 300 && outcome.transportError === null) return 'success';
    if (status >= 300 && status < 400) return 'redirect';
    return 'http_error';
  }
  const error = outcome.transportError ?? '';
  if (error.startsWith(BLOCKED_PREFIX)) return 'blocked';
  if (error.startsWith(TIMEOUT_PREFIX)) return 'timeout';
  return 'connection_error';
}
