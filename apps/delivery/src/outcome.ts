/**
 * What one attempt produced, in the decider's terms: the HTTP status when a
 * response arrived, and why it is not a usable answer when it is not one
 * (`null` lets the decider say `HTTP 500` or call it a success).
 */
export interface AttemptOutcome {
  responseStatus: number | null;
  transportError: string | null;
  /** What a 429 or 503 asked for with `Retry-After`, in ms from the response (SPEC §8.6); absent otherwise. */
  retryAfterMs?: number;
}

/** The statuses whose `Retry-After` the next attempt listens to (SPEC §8.6). */
export const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/**
 * A `Retry-After` value in ms from `nowMs`: delay-seconds (a non-negative
 * integer) or an HTTP date. `undefined` when it is neither; a date in the
 * past is 0.
 */
export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, at - nowMs);
}

/** A response arrived. 3xx is an error because redirects are not followed (SPEC §5); the status is kept. */
export function outcomeOfStatus(status: number): AttemptOutcome {
  if (status >= 300 && status <= 399) return { responseStatus: status, transportError: `redirect not followed (HTTP ${status})` };
  return { responseStatus: status, transportError: null };
}

/** The attempt ran out of time (whatever stage it was in). */
export const timeoutMessage = (timeoutMs: number): string => `timeout after ${timeoutMs} ms`;

/** The receiver sent more 1xx responses than an attempt accepts before the real one (see `MAX_INFORMATIONAL_RESPONSES`). */
export const TOO_MANY_INFORMATIONAL_MESSAGE = 'too many informational (1xx) responses';

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

const MESSAGES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection closed before a response',
  UND_ERR_CLOSED: 'connection closed before a response',
  ENOTFOUND: 'host not found',
  EAI_NONAME: 'host not found',
  EAI_AGAIN: 'dns lookup failed (EAI_AGAIN)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ERR_TLS_CERT_ALTNAME_INVALID: 'tls error: certificate does not match the host',
  CERT_HAS_EXPIRED: 'tls error: certificate has expired',
  CERT_NOT_YET_VALID: 'tls error: certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'tls error: self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'tls error: self-signed certificate in chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls error: unable to verify the certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tls error: unknown certificate issuer',
  UND_ERR_INFO: 'invalid HTTP response',
  E_TOO_MANY_INFORMATIONAL: TOO_MANY_INFORMATIONAL_MESSAGE,
};

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL_)/;

/** Each error in the `cause` chain (undici wraps socket errors), bounded against cycles. */
function* causes(error: unknown): Generator<{ code?: unknown; name?: unknown; message?: unknown }> {
  let current = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    yield current as { code?: unknown; name?: unknown };
    current = (current as { cause?: unknown }).cause;
  }
}

/**
 * A short human reason for a failed attempt (SPEC §3 `errorMessage`), e.g.
 * `connection refused`. Built from error codes only, never from error
 * messages or response bytes, so nothing the receiver controls reaches the
 * execution log (no read-SSRF) and no URL or token leaks into it.
 */
export function describeTransportError(error: unknown, timeoutMs: number): string {
  let firstCode: string | undefined;
  for (const cause of causes(error)) {
    const code = typeof cause.code === 'string' ? cause.code : undefined;
    if (code === 'E_BLOCKED_ADDRESS' && typeof cause.message === 'string') return cause.message;
    if (code === undefined) continue;
    if (TIMEOUT_CODES.has(code)) return timeoutMessage(timeoutMs);
    const known = MESSAGES[code];
    if (known !== undefined) return known;
    if (code.startsWith('HPE_')) return 'invalid HTTP response';
    if (TLS_CODE.test(code)) return `tls error (${code})`;
    firstCode ??= code;
  }
  if (firstCode !== undefined) return `request failed (${firstCode})`;
  const name = (error as { name?: unknown } | null)?.name;
  return `request failed (${typeof name === 'string' ? name : 'unknown error'})`;
}
