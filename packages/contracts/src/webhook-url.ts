import { classifyAddress, isIpLiteral, isLocalhostName, rangeKind, stripBrackets } from './address-policy.js';

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** `allowPrivateNetwork` is `--allow-private-network`: http and private targets are allowed. */
export interface UrlPolicy {
  allowPrivateNetwork: boolean;
}

/**
 * The rules of SPEC §3 for a webhook URL. Returns the reason it is rejected
 * (phrased to follow "url: "), or `null` when it is acceptable. Special
 * schemes always have a host (the URL parser refuses `https://`). Host names
 * other than `localhost` are checked again after DNS resolution (SPEC §5).
 * User info (even an empty `https://:@host/`) and port 0 are refused in every mode.
 */
export function webhookUrlProblem(url: string, policy: UrlPolicy): string | null {
  if (url.length > MAX_WEBHOOK_URL_LENGTH) return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  const allowed = policy.allowPrivateNetwork ? ['https:', 'http:'] : ['https:'];
  if (!allowed.includes(parsed.protocol)) {
    return policy.allowPrivateNetwork ? 'must use the https or http scheme' : 'must use the https scheme';
  }
  if (parsed.username !== '' || parsed.password !== '' || hasUserInfo(url)) return 'must not contain user info (user:pass@)';
  if (parsed.port === '0') return 'must not use port 0';
  if (policy.allowPrivateNetwork) return null;
  if (isLocalhostName(parsed.hostname)) return `must not target ${parsed.hostname}`;
  if (isIpLiteral(parsed.hostname)) {
    const address = stripBrackets(parsed.hostname);
    const verdict = classifyAddress(address);
    if (!verdict.public) return `must not target ${address} (${rangeKind(verdict.range, address)})`;
  }
  return null;
}

/**
 * Whether the authority of an http(s) URL holds an `@`, i.e. a user-info part,
 * even an empty one (`https://:@host/`, `https://@host/`) which the URL parser
 * drops without a trace. Mirrors the WHATWG parser for special schemes: tabs
 * and newlines are removed, leading/trailing C0 controls and spaces trimmed,
 * any run of `/` or `\` follows the scheme, and the authority ends at the
 * first `/`, `\`, `?` or `#`.
 */
function hasUserInfo(url: string): boolean {
  const cleaned = url.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  const authority = /^[a-z][a-z\d+.-]*:[/\\]*([^/\\?#]*)/i.exec(cleaned)?.[1] ?? '';
  return authority.includes('@');
}
