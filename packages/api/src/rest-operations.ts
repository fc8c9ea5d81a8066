import type { AnyTRPCProcedure } from '@trpc/server';
import type { AppRouter } from './router.js';
import type { ApiMeta } from './trpc.js';

/**
 * A procedure on the REST surface, as its `openapi` meta places it. The one
 * reading of that meta: the REST dispatcher (`http/rest.ts`) routes by it and
 * the OpenAPI document (`openapi.ts`) lists it, so the two cannot disagree.
 */
export interface RestOperation {
  /** Dotted tRPC path, e.g. `workers.webhooks.listExecutions`. */
  procedurePath: string;
  /** Upper case, as HTTP sends it. */
  method: string;
  /** The path template, e.g. `/api/workers/{workerId}/webhook`. */
  path: string;
  successStatus: number;
  /** The success status for one answer, when it depends on it. */
  statusOf?: (output: unknown) => number;
  errorResponses: Record<number, string>;
}

/** Every procedure with `openapi` meta (and not `enabled: false`), in router order. */
export function restOperations(appRouter: AppRouter): RestOperation[] {
  // At runtime `_def.procedures` is flat, keyed by dotted path (trpc-to-openapi walks it the same way).
  const procedures = appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>;
  return Object.entries(procedures).flatMap(([procedurePath, procedure]) => {
    const meta = procedure._def.meta as ApiMeta | undefined;
    if (!meta?.openapi || meta.openapi.enabled === false) return [];
    const errors = meta.openapi.errorResponses;
    return [{
      procedurePath,
      method: meta.openapi.method.toUpperCase(),
      path: meta.openapi.path,
      successStatus: meta.successStatus ?? 200,
      ...(meta.statusOf ? { statusOf: meta.statusOf } : {}),
      errorResponses: Array.isArray(errors) ? {} : (errors ?? {}),
    }];
  });
}
