import { toPublicError } from '../errors.js';
import { baseProcedure, middleware } from '../trpc.js';

/**
 * Outermost middleware: whatever a procedure ends with (validation error,
 * DomainError, bug) is mapped by `toPublicError` before either surface
 * renders it, so both surfaces answer the same status and message.
 */
const mapErrors = middleware(async ({ next, getRawInput }) => {
  const result = await next();
  if (result.ok) return result;
  const rawInput = await getRawInput().catch(() => undefined);
  throw toPublicError(result.error, rawInput);
});

/** The root of every procedure: no authentication, errors mapped. */
export const publicProcedure = baseProcedure.use(mapErrors);
