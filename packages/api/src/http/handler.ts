import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import { resolveServices, type ApiOptions } from '../options.js';
import { createAppRouter } from '../router.js';
import { API_CSP, createConsoleHandler, isConsolePath } from './console.js';
import { RequestAbortedError } from './read-body.js';
import { errorFields } from './report-unexpected.js';
import { sendError, sendJson } from './respond.js';
import { createRestHandler } from './rest.js';
import { TRPC_PREFIX, createTrpcHandler } from './trpc.js';

const REST_PREFIX = '/api';
const OPENAPI_PATH = '/api/openapi.json';
const HEALTH_PATH = '/healthz';

const under = (pathname: string, prefix: string): boolean => pathname === prefix || pathname.startsWith(`${prefix}/`);
const isRead = (req: IncomingMessage): boolean => req.method === 'GET' || req.method === 'HEAD';

/** The request's URL as tRPC's adapter will build it, or `null` when it cannot be parsed (a 400 here, not a 500 there). */
function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  } catch {
    return null;
  }
}

/**
 * The complete HTTP handler of the API: `/healthz`, `/api/openapi.json`,
 * the REST surface under `/api`, the tRPC surface under `/trpc`, and a 404
 * JSON for anything else. It never throws and never leaves a request
 * unanswered: an unexpected failure is logged and answered with a 500 (or
 * the connection is closed if the response had already started); a client
 * that disconnects mid-body is simply dropped. The HTTP server around it
 * (listening, timeouts, request logs, shutdown) belongs to the caller.
 */
export function createApiHandler(options: ApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const services = resolveServices(options);
  const appRouter = createAppRouter(options);
  // Generated on first request: trpc-to-openapi and its dependencies take ~0.1 s to load, at every start otherwise.
  let document: Promise<string> | undefined;
  const openApiDocument = () =>
    (document ??= import('../openapi.js').then(({ openApiDocumentFor }) => JSON.stringify(openApiDocumentFor(appRouter, services.version))));
  const rest = createRestHandler(appRouter, services);
  const trpc = createTrpcHandler(appRouter, services);
  const consoleFiles = createConsoleHandler(options.console, options.portalFrameAncestors ?? []);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (url === null) return sendError(res, new TRPCError({ code: 'BAD_REQUEST', message: 'Invalid request URL' }));
    const { pathname } = url;
    res.setHeader('content-security-policy', API_CSP);
    if (isConsolePath(pathname)) return consoleFiles(req, res, pathname);
    if (pathname === HEALTH_PATH && isRead(req)) return sendJson(res, 200, { status: 'ok' });
    if (pathname === OPENAPI_PATH && isRead(req)) return sendJson(res, 200, await openApiDocument());
    if (pathname !== HEALTH_PATH && under(pathname, REST_PREFIX)) return rest(req, res, url);
    if (under(pathname, TRPC_PREFIX)) return trpc(req, res, url);
    req.resume();
    return sendError(res, new TRPCError({ code: 'NOT_FOUND', message: `No route for ${req.method} ${pathname}` }));
  }

  return (req, res) => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof RequestAbortedError) {
        res.destroy();
        return;
      }
      services.logger.error({ method: req.method, error: errorFields(error) }, 'unexpected error in API handler');
      if (res.headersSent) res.destroy();
      else sendError(res, new TRPCError({ code: 'INTERNAL_SERVER_ERROR' }));
    });
  };
}
