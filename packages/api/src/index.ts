/**
 * @handinger-webhooks/api — the tRPC router, its REST surface and the HTTP
 * handler serving both. This is the package's whole public face.
 */
export { createAppRouter, type AppRouter } from './router.js';
export { createApiHandler } from './http/handler.js';
export type { ApiOptions } from './options.js';
export { createRouteLabeler, UNMATCHED_ROUTE } from './http/route-labels.js';
export { parseConsoleAssets, type ConsoleAssets } from './http/console.js';
