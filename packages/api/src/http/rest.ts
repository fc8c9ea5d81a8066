import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError, getTRPCErrorFromUnknown } from '@trpc/server';
import { createContextFactory } from '../context.js';
import type { ApiServices } from '../options.js';
import { restOperations, type RestOperation } from '../rest-operations.js';
import type { AppRouter } from '../router.js';
import { createCallerFactory } from '../trpc.js';
import { parseJson, readBodyText } from './request-body.js';
import { reportUnexpected } from './report-unexpected.js';
import { sendError, sendJson } from './respond.js';

/**
 * The REST surface (`/api/*`): each procedure with `openapi` meta served at
 * its method and path template (SPEC §3), the routes read once at startup
 * from that meta (`restOperations`, the same list the OpenAPI document is
 * generated from by trpc-to-openapi). Requests are dispatched here rather
 * than through trpc-to-openapi's handler, which builds a whole WHATWG
 * Request per request (for an abort signal nothing here uses) and re-merges
 * every procedure's input schemas on every call; the input rules are the
 * same as that handler's (see `restInput`).
 */

/** A path template segment: a literal to match exactly, or a `{param}` capturing one non-empty segment. */
type Segment = { literal: string } | { param: string };

export interface RestRoute {
  operation: RestOperation;
  segments: readonly Segment[];
  /** The procedure path as property names of a caller: `['workers', 'webhooks', 'listExecutions']`. */
  callPath: readonly string[];
}

/** A caller as `createCaller` builds it, walked by property name down to a procedure. */
type CallerNode = { [key: string]: CallerNode } & ((input: unknown) => Promise<unknown>);

/** Methods whose input is the JSON body; GET and DELETE take theirs from the query (as trpc-to-openapi does). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const readsBody = (method: string): boolean => BODY_METHODS.has(method);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `/api/workers/x/` → `['api', 'workers', 'x']`: one leading and one trailing slash are not segments. */
function splitPath(pathname: string): string[] {
  return pathname.slice(1, pathname.length > 1 && pathname.endsWith('/') ? -1 : undefined).split('/');
}

function compileRoute(operation: RestOperation): RestRoute {
  const segments = splitPath(operation.path).map((part): Segment => {
    const param = /^\{(.+)\}$/.exec(part);
    return param ? { param: param[1]! } : { literal: part };
  });
  return { operation, segments, callPath: operation.procedurePath.split('.') };
}

/** The routes by method, each list in router order. */
export function routeTable(appRouter: AppRouter): Map<string, RestRoute[]> {
  const table = new Map<string, RestRoute[]>();
  for (const operation of restOperations(appRouter)) {
    const routes = table.get(operation.method) ?? [];
    routes.push(compileRoute(operation));
    table.set(operation.method, routes);
  }
  return table;
}

/** The route a request's method and path name, with its path parameters (as sent: not percent-decoded). */
export function matchRoute(table: ReadonlyMap<string, readonly RestRoute[]>, method: string, pathname: string): { route: RestRoute; params: Record<string, string> } | null {
  const routes = table.get(method);
  if (routes === undefined) return null;
  const parts = splitPath(pathname);
  next: for (const route of routes) {
    if (route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const segment = route.segments[i]!;
      const part = parts[i]!;
      if ('literal' in segment) {
        if (part !== segment.literal) continue next;
      } else {
        if (part === '') continue next;
        params[segment.param] = part;
      }
    }
    return { route, params };
  }
  return null;
}

/**
 * A procedure's raw input: the path parameters over the query (GET, DELETE)
 * or over the JSON body (POST, PUT). A query parameter given once is a
 * string, given more than once an array of its values (so `page=1&page=2`
 * is refused by `page`'s rule, not silently read as one of them). Unknown
 * fields are left for the procedure's input schema, which ignores them.
 */
function restInput(method: string, url: URL, body: Record<string, unknown> | undefined, params: Record<string, string>): Record<string, unknown> {
  if (readsBody(method)) return { ...body, ...params };
  const input: Record<string, unknown> = {};
  for (const [key, value] of url.searchParams) {
    // An unknown field either way; assigning it would set the object's prototype.
    if (key === '__proto__') continue;
    const previous = Object.hasOwn(input, key) ? input[key] : undefined;
    input[key] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return Object.assign(input, params);
}

export function createRestHandler(appRouter: AppRouter, services: ApiServices) {
  const table = routeTable(appRouter);
  const createContext = createContextFactory(services.app.readModels);
  const createCaller = createCallerFactory(appRouter);
  const onError = reportUnexpected(services.logger, 'rest', services.storageOutage);

  /**
   * Calls the route's procedure through a caller made for this request, so
   * the procedure's whole middleware chain runs (authentication,
   * authorization, input and output parsing, error mapping) exactly as on
   * `/trpc`. Every failure comes back as a `TRPCError`, already mapped.
   */
  function invoke(route: RestRoute, req: IncomingMessage, input: unknown): Promise<unknown> {
    const caller = createCaller(createContext({ req }), { onError }) as unknown as CallerNode;
    return route.callPath.reduce((node, key) => node[key]!, caller)(input);
  }

  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const method = req.method ?? '';
    // The body is read (1 MiB limit) and checked before routing, whatever the method.
    const read = await readBodyText(req);
    if ('error' in read) return sendError(res, read.error, { connection: 'close' });

    let body: Record<string, unknown> | undefined;
    if (readsBody(method) && read.text.trim() !== '') {
      const parsed = parseJson(read.text, 'body');
      if ('error' in parsed) return sendError(res, parsed.error);
      if (!isPlainObject(parsed.value)) return sendError(res, new TRPCError({ code: 'BAD_REQUEST', message: 'body: must be a JSON object' }));
      body = parsed.value;
    }

    const matched = matchRoute(table, method, url.pathname);
    if (matched === null) return sendError(res, new TRPCError({ code: 'NOT_FOUND', message: `No route for ${method} ${url.pathname}` }));
    const { route, params } = matched;

    const input = restInput(method, url, body, params);
    let data: unknown;
    try {
      data = await invoke(route, req, input);
    } catch (cause) {
      // Already mapped by the procedure's middlewares and, if unexpected, reported through `onError`.
      return sendError(res, getTRPCErrorFromUnknown(cause));
    }
    sendJson(res, route.operation.statusOf?.(data) ?? route.operation.successStatus, data);
  };
}
