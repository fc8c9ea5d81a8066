import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export const METRICS_PATH = '/metrics';
export const READY_PATH = '/readyz';
export const HEALTH_PATH = '/healthz';

export interface OperatorRoutesOptions {
  metrics: Metrics;
  readiness: () => Promise<Readiness>;
  /** `HANDINGER_METRICS_TOKEN`: `/metrics` then requires `Authorization: Bearer <it>`. */
  token?: string | undefined;
  /** Also answer `/healthz` (a process without the API, whose handler answers it otherwise). */
  health?: boolean;
}

/** A request's path without its query. */
const pathOf = (req: IncomingMessage): string => {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
};

/** The fixed route label of an operator path, or `null` for any other path. */
export function operatorRouteLabel(path: string): string | null {
  return path === METRICS_PATH || path === READY_PATH || path === HEALTH_PATH ? path : null;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/**
 * `/metrics` (Prometheus text, behind the optional token), `/readyz` and,
 * when asked, `/healthz`, in front of another handler: returns whether it
 * answered the request. Only GET and HEAD are theirs; other methods fall
 * through (to the API's 404).
 */
export function createOperatorRoutes(options: OperatorRoutesOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const expected = options.token ? digest(options.token) : null;
  const authorized = (req: IncomingMessage): boolean => {
    if (expected === null) return true;
    // The scheme is case-insensitive (RFC 9110); the token is compared in constant time.
    const given = /^bearer +(\S+)$/i.exec(req.headers.authorization ?? '');
    return given !== null && timingSafeEqual(digest(given[1]!), expected);
  };

  const serveMetrics = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!authorized(req)) {
      return sendJson(res, 401, { code: 'UNAUTHORIZED', message: 'metrics require Authorization: Bearer <HANDINGER_METRICS_TOKEN>' }, { 'www-authenticate': 'Bearer realm="metrics"' });
    }
    const text = await options.metrics.render();
    res.writeHead(200, { 'content-type': options.metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  };

  const serveReady = async (res: ServerResponse): Promise<void> => {
    const state = await options.readiness();
    if (state.ready) return sendJson(res, 200, { status: 'ready' });
    sendJson(res, 503, { status: 'not ready', database: state.database, delivery: state.delivery }, { 'retry-after': '5' });
  };

  return (req, res) => {
    // In front of every API request: what is not one of these paths leaves at once.
    const url = req.url ?? '';
    if (!url.startsWith(METRICS_PATH) && !url.startsWith(READY_PATH) && !url.startsWith(HEALTH_PATH)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = pathOf(req);
    let answer: Promise<void>;
    if (path === METRICS_PATH) answer = serveMetrics(req, res);
    else if (path === READY_PATH) answer = serveReady(res);
    else if (path === HEALTH_PATH && options.health) answer = Promise.resolve(sendJson(res, 200, { status: 'ok' }));
    else return false;
    req.resume();
    answer.catch(() => {
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { code: 'INTERNAL_SERVER_ERROR', message: 'could not answer' });
    });
    return true;
  };
}
