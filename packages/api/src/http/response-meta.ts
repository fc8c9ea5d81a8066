import type { TRPCError } from '@trpc/server';
import { httpStatusOf } from '../errors.js';
import { errorHeaders } from './respond.js';

/**
 * `responseMeta` for the tRPC adapter: errors get the headers REST errors
 * get (`errorHeaders`: `x-should-retry: false` on 4xx, `Retry-After` on
 * 503). Successes keep tRPC's convention, 200.
 */
export function createResponseMeta() {
  return ({ errors }: { errors: readonly TRPCError[] }) => {
    if (errors.length === 0) return {};
    const statuses = errors.map(httpStatusOf);
    // A batch answers one status for all: "retry later" when storage refused any call, "don't retry" only when every error is the client's.
    if (statuses.includes(503)) return { headers: errorHeaders(503) };
    return statuses.every((status) => status < 500) ? { headers: errorHeaders(Math.max(...statuses)) } : {};
  };
}
