import type { TRPCError } from '@trpc/server';
import { httpStatusOf } from '../errors.js';
import { errorHeaders } from './respond.js';

/**
 * `responseMeta` for both adapters: 4xx errors get `x-should-retry: false`
 * (see `errorHeaders`), and a procedure with a `successStatus` answers with
 * it (REST only; pass no statuses for tRPC, whose convention is 200).
 */
export function createResponseMeta(successStatusByPath: ReadonlyMap<string, { status: number }> = new Map()) {
  return ({ paths, errors }: { paths?: readonly string[] | undefined; errors: readonly TRPCError[] }) => {
    if (errors.length > 0) {
      const statuses = errors.map(httpStatusOf);
      // A batch answers one status for all; the hint is given only when every error is a client error.
      return statuses.every((status) => status < 500) ? { headers: errorHeaders(Math.max(...statuses)) } : {};
    }
    const status = paths?.length === 1 ? successStatusByPath.get(paths[0]!)?.status : undefined;
    return status === undefined ? {} : { status };
  };
}
