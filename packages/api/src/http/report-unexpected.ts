import type { Logger } from '@handinger-webhooks/contracts';
import type { TRPCError } from '@trpc/server';
import type { Surface } from '../context.js';

/** The fields of an error worth logging (never the request's input or headers, which may hold secrets). */
export function errorFields(error: unknown): { name: string; message: string; stack?: string } {
  if (error instanceof Error) return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { name: typeof error, message: String(error) };
}

/**
 * `onError` for both adapters: a 500 is a bug, so it is logged with its
 * cause (the client only sees "Internal server error"); a 503 is storage
 * refusing writes (full disk, database gone), logged through the
 * process's `storageOutage` throttle, once a minute however many requests
 * it refuses; client errors are the client's business and are not logged.
 */
export function reportUnexpected(logger: Logger, surface: Surface, storageOutage: (write: (suppressed: number) => void) => void) {
  return ({ error, path }: { error: TRPCError; path?: string | undefined }) => {
    if (error.code === 'SERVICE_UNAVAILABLE') {
      storageOutage((suppressed) =>
        logger.error({ surface, procedure: path ?? null, reason: error.message, refusedSinceLastLine: suppressed }, 'storage unavailable: refusing writes with 503'),
      );
      return;
    }
    if (error.code !== 'INTERNAL_SERVER_ERROR') return;
    logger.error({ surface, procedure: path ?? null, error: errorFields(error.cause ?? error) }, 'unexpected error in API procedure');
  };
}
