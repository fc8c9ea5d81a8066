import type { TRPCError } from '@trpc/server';
import { httpStatusOf } from '../errors.js';
import { errorHeaders } from './respond.js';

/**
 * `responseMeta` for the tRPC adapter: 4xx errors get `x-should-retry:
 * false` (see `errorHeaders`), as REST errors do (`sendError`). Successes
 * keep tRPC's convention, 200.
 */
export function createResponseMeta() {
  return ({ errors }: { errors: readonly TRPCError[] }) => {
    if (errors.length === 0) return {};
    const statuses = errors.map(httpStatusOf);
    // A batch answers one status for all; the hint is given only when every error is a client error.
    return statuses.every((status) => status < 500) ? { headers: errorHeaders(Math.max(...statuses)) } : {};
  };
}
