import type { ApiOptions } from '../options.js';
import { restOperations } from '../rest-operations.js';
import { createAppRouter } from '../router.js';
import { TRPC_PREFIX } from './trpc.js';

/** The label of a path no route serves (SPEC §10: never the raw path). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Fixed paths the handler (or the server in front of it) answers. */
const FIXED = new Set(['/', '/healthz', '/readyz', '/metrics', '/api/openapi.json']);
/** Everything under the console is one label (its files are the product's, but their names are not worth a series each). */
const CONSOLE_PREFIX = '/console';

/**
 * The route label of a request (SPEC §10 `route`): the REST path template
 * (`/api/workers/{workerId}/webhook`) that serves it, `/trpc/<procedure>`
 * for a known procedure (`/trpc/{batch}` for a batch), a fixed path, or
 * `unmatched`. A path that matches a template for another method gets that
 * template (its 404 is still that route's). Bounded by the router: ids,
 * queries and unknown paths never become labels.
 */
export function createRouteLabeler(options: ApiOptions): (method: string | undefined, url: string | undefined) => string {
  const appRouter = createAppRouter(options);
  // Each template as a pattern that matches what the REST dispatcher routes to it (one `{param}` is one non-empty segment; one trailing slash is allowed).
  const routes = restOperations(appRouter).map((operation) => ({
    method: operation.method,
    template: operation.path,
    pattern: new RegExp(`^${operation.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^/}]+\}/g, '[^/]+')}/?$`),
  }));
  const procedures = new Set(Object.keys(appRouter._def.procedures as object));

  return (method, url) => {
    const raw = url ?? '/';
    const query = raw.indexOf('?');
    const path = query === -1 ? raw : raw.slice(0, query);
    if (FIXED.has(path)) return path;
    if (path.startsWith('/api/')) {
      let other: string | undefined;
      for (const route of routes) {
        if (!route.pattern.test(path)) continue;
        if (route.method === method) return route.template;
        other ??= route.template;
      }
      return other ?? UNMATCHED_ROUTE;
    }
    if (path.startsWith(`${TRPC_PREFIX}/`)) {
      const name = path.slice(TRPC_PREFIX.length + 1);
      if (procedures.has(name)) return `${TRPC_PREFIX}/${name}`;
      return name.includes(',') || name.includes('%2C') || name.includes('%2c') ? `${TRPC_PREFIX}/{batch}` : UNMATCHED_ROUTE;
    }
    if (path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`)) return `${CONSOLE_PREFIX}/*`;
    return UNMATCHED_ROUTE;
  };
}
