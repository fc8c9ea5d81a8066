/**
 * Who the console acts as: an API key typed in at sign-in, or a portal link
 * (SPEC §9.1) opened from its URL. Kept in this tab's `sessionStorage` only
 * (never a cookie, `localStorage` or a URL), so closing the tab or "Sign out"
 * forgets it.
 */
export type Session = { kind: 'key'; key: string } | { kind: 'portal'; key: string; workerId: string };

const STORAGE_KEY = 'handinger-webhooks.session';
export const PORTAL_PATH = '/console/portal';

export function loadSession(): Session | null {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Session | null;
    if (parsed && typeof parsed.key === 'string' && (parsed.kind === 'key' || (parsed.kind === 'portal' && typeof parsed.workerId === 'string'))) return parsed;
  } catch {
    // unreadable: signed out
  }
  return null;
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function forgetSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/**
 * A portal link's fragment (`#worker=…&key=…`), read once: the session is
 * kept and the fragment replaced by the console's own route, so the
 * credential does not stay in the address bar or the history.
 */
export function takePortalFragment(): Session | null {
  if (location.pathname !== PORTAL_PATH) return null;
  const fragment = new URLSearchParams(location.hash.slice(1));
  const key = fragment.get('key');
  const workerId = fragment.get('worker');
  if (!key || !workerId) return null;
  const session: Session = { kind: 'portal', key, workerId };
  saveSession(session);
  history.replaceState(null, '', `${PORTAL_PATH}#/workers/${encodeURIComponent(workerId)}`);
  return session;
}
