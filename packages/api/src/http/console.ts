import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PORTAL_PATH } from '@handinger-webhooks/contracts';

/**
 * The web console's static files (SPEC §9), as the console's build writes
 * them into one JSON document (`apps/console`, `console-assets.json`), so the
 * same document is read from the file system or from inside the single
 * executable. Names are paths under `/console/`; `immutable` ones carry a
 * content hash in their name.
 */
export interface ConsoleAssets {
  files: ReadonlyMap<string, ConsoleFile>;
}

export interface ConsoleFile {
  contentType: string;
  body: Buffer;
  /** Content-hashed name: cached for a year. Otherwise revalidated on every use (`index.html`). */
  immutable: boolean;
  etag: string;
}

interface AssetDocument {
  files: Record<string, { contentType: string; immutable: boolean; base64: string }>;
}

/** Reads the console's asset document. @throws Error when it is not one. */
export function parseConsoleAssets(json: string): ConsoleAssets {
  const document = JSON.parse(json) as AssetDocument;
  if (typeof document?.files !== 'object' || document.files === null || !document.files['index.html']) {
    throw new Error('not a console asset document (no index.html)');
  }
  const files = new Map<string, ConsoleFile>();
  for (const [name, file] of Object.entries(document.files)) {
    const body = Buffer.from(file.base64, 'base64');
    files.set(name, { contentType: file.contentType, immutable: file.immutable, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return { files };
}

export const CONSOLE_PREFIX = '/console';

/**
 * The console's policy: its own scripts, styles and images, API calls to
 * this origin only, nothing inline, no plugins, no base or form targets
 * elsewhere, and no framing (portal views: the configured origins only).
 */
export function consoleCsp(frameAncestors: readonly string[] | null): string {
  const ancestors = frameAncestors && frameAncestors.length > 0 ? frameAncestors.join(' ') : "'none'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${ancestors}`,
  ].join('; ');
}

/** What every API (JSON) response carries: nothing may run or be framed. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Whether `pathname` is the console's: `/`, `/console` and everything under `/console/`. */
export const isConsolePath = (pathname: string): boolean =>
  pathname === '/' || pathname === CONSOLE_PREFIX || pathname.startsWith(`${CONSOLE_PREFIX}/`);

function send(res: ServerResponse, status: number, headers: Record<string, string>, body?: Buffer | string, head = false): void {
  const payload = body ?? '';
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(payload)), ...headers });
  res.end(head ? undefined : payload);
}

/**
 * Serves the console: `/` and `/console` redirect to `/console/`, which (and
 * `/console/portal`, the portal view of SPEC §9.1) is `index.html`,
 * revalidated on each load; hashed assets are cached for a year. Only GET
 * and HEAD; anything else under `/console/` is a 404. Routing inside the
 * console is in the fragment, which never reaches the server.
 */
export function createConsoleHandler(assets: ConsoleAssets | undefined, portalFrameAncestors: readonly string[]) {
  const common = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cross-origin-opener-policy': 'same-origin' };
  const text = (res: ServerResponse, status: number, message: string, head: boolean, extra: Record<string, string> = {}) =>
    send(res, status, { ...common, 'content-type': 'text/plain; charset=utf-8', 'content-security-policy': consoleCsp(null), 'cache-control': 'no-store', ...extra }, `${message}\n`, head);

  return (req: IncomingMessage, res: ServerResponse, pathname: string): void => {
    req.resume();
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) return text(res, 405, 'Method not allowed', head, { allow: 'GET, HEAD' });
    if (pathname === '/' || pathname === CONSOLE_PREFIX) return text(res, 302, 'See /console/', head, { location: `${CONSOLE_PREFIX}/` });
    if (!assets) return text(res, 404, 'The console was not built into this server (npm run build)', head);
    const portal = pathname === PORTAL_PATH;
    const name = pathname === `${CONSOLE_PREFIX}/` || portal ? 'index.html' : pathname.slice(CONSOLE_PREFIX.length + 1);
    const file = name === 'index.html' || name.startsWith('assets/') ? assets.files.get(name) : undefined;
    if (!file) return text(res, 404, 'Not found', head);
    const headers: Record<string, string> = {
      ...common,
      'content-type': file.contentType,
      'content-security-policy': consoleCsp(portal ? portalFrameAncestors : null),
      'cache-control': file.immutable ? IMMUTABLE : 'no-cache',
      etag: file.etag,
    };
    if (req.headers['if-none-match'] === file.etag) {
      const { 'content-type': _type, ...rest } = headers;
      res.writeHead(304, rest);
      res.end();
      return;
    }
    send(res, 200, headers, file.body, head);
  };
}
