import { ConfigError } from './config.js';

/**
 * `HANDINGER_PORTAL_FRAME_ANCESTORS` (SPEC §9.1): space-separated origins
 * (`https://app.example.com`, `http://localhost:5173`) that may frame portal
 * views. Each must be a bare origin (a leading `*.` for subdomains, as CSP
 * allows, is the one wildcard): no path, `*` alone or quote, which would widen
 * or break the Content-Security-Policy it is written into.
 */
export function parseFrameAncestors(text: string | undefined): string[] {
  const origins = (text ?? '').split(/\s+/).filter(Boolean);
  for (const origin of origins) {
    let url: URL | null = null;
    try {
      url = new URL(origin);
    } catch {
      // reported below
    }
    const host = url?.hostname ?? '';
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin || !/^(\*\.)?[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/.test(host)) {
      throw new ConfigError(`HANDINGER_PORTAL_FRAME_ANCESTORS: "${origin}" is not an origin such as https://app.example.com (scheme, host and optional port; no path or wildcard)`);
    }
  }
  return origins;
}

/** `HANDINGER_PUBLIC_URL`: where users reach the server (the base of portal links), e.g. behind a proxy. */
export function parsePublicUrl(text: string | undefined): string | undefined {
  if (!text) return undefined;
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(`HANDINGER_PUBLIC_URL: "${text}" is not an http(s) URL without query, fragment or credentials`);
  }
  return text.replace(/\/+$/, '');
}
