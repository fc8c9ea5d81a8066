import { initTRPC } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import type { Context } from './context.js';
import { publicMessage } from './errors.js';

/**
 * Procedure metadata: `openapi` places a procedure on the REST surface
 * (trpc-to-openapi); `successStatus` overrides its REST success status
 * (202 for task completions), and `statusOf` when it depends on the answer
 * (a recovery's dry run is 200). The tRPC surface always answers 200.
 */
export type ApiMeta = OpenApiMeta<{ successStatus?: 200 | 201 | 202; statusOf?: (output: unknown) => 200 | 201 | 202 }>;

/**
 * The one tRPC instance. Its error formatter (used on `/trpc`) never
 * exposes a stack or the text of an unexpected error, and keeps tRPC's
 * shape (numeric `code`, `data.code`, `data.httpStatus`), which
 * `@trpc/client` needs to recognise an error response. REST errors are
 * rendered by the REST handler as SPEC's `{ code, message }` (`errors.ts`).
 */
const t = initTRPC
  .context<Context>()
  .meta<ApiMeta>()
  .create({
    isDev: false,
    errorFormatter({ shape, error }) {
      const data = { code: shape.data.code, httpStatus: shape.data.httpStatus, path: shape.data.path };
      return { message: publicMessage(error), code: shape.code, data };
    },
  });

export const router = t.router;
export const mergeRouters = t.mergeRouters;
export const middleware = t.middleware;
/** Callers for server-side calls: the REST surface calls procedures through one per request. */
export const createCallerFactory = t.createCallerFactory;
/** The bare procedure; every exposed procedure starts from `publicProcedure` (middleware/map-errors.ts). */
export const baseProcedure = t.procedure;
