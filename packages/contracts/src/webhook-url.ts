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
  if (parsed.username !== '' || parsed.password !== '') return 'must not contain user info (user:pass@)';
  if (policy.allowPrivateNetwork) return null;
  if (isLocalhostName(parsed.hostname)) return `must not target ${parsed.hostname}`;
  if (isIpLiteral(parsed.hostname)) {
    const address = stripBrackets(parsed.hostname);
    const verdict = classifyAddress(address);
    if (!verdict.public) return `must not target ${address} (${rangeKind(verdict.range)})`;
  }
  return null;
}
