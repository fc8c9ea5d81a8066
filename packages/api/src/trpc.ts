import { initTRPC } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import type { Context } from './context.js';
import { publicMessage } from './errors.js';

/**
 * Procedure metadata: `openapi` places a procedure on the REST surface
 * (trpc-to-openapi); `successStatus` overrides its REST success status
 * (202 for task completions). The tRPC surface always answers 200.
 */
export type ApiMeta = OpenApiMeta<{ successStatus?: 200 | 201 | 202 }>;

/**
 * The one tRPC instance. Its error formatter never exposes a stack or the
 * text of an unexpected error. On the REST surface the body must be exactly
 * SPEC's `{ code, message }`: trpc-to-openapi spreads this shape and sets
 * `code` to the string key itself, so `data` is left out there. On `/trpc`
 * the shape stays tRPC's (numeric `code`, `data.code`, `data.httpStatus`),
 * which `@trpc/client` needs to recognise an error response.
 */
const t = initTRPC
  .context<Context>()
  .meta<ApiMeta>()
  .create({
    isDev: false,
    errorFormatter({ shape, error, ctx }) {
      const message = publicMessage(error);
      if (ctx?.surface === 'rest') return { message, code: shape.code };
      const data = { code: shape.data.code, httpStatus: shape.data.httpStatus, path: shape.data.path };
      return { message, code: shape.code, data };
    },
  });

export const router = t.router;
export const middleware = t.middleware;
/** The bare procedure; every exposed procedure starts from `publicProcedure` (middleware/map-errors.ts). */
export const baseProcedure = t.procedure;
