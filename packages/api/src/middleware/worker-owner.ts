import { parseWorkerId, workerIdInputSchema } from '@handinger-webhooks/contracts';
import type { ReadModels } from '@handinger-webhooks/projections';
import { TRPCError } from '@trpc/server';
import { userProcedure } from './roles.js';

const workerNotFound = () => new TRPCError({ code: 'NOT_FOUND', message: 'Worker not found' });

/**
 * Procedures on one worker, for its creator only (SPEC §2). A malformed id,
 * a worker of another organization, a deleted or unknown worker are all the
 * same 404, so nothing reveals that a worker exists; a member of the same
 * organization who did not create it gets 403. The organization is read
 * from the id first, so another organization's ids are refused without a
 * lookup. Adds `ctx.worker`.
 */
export function workerOwnerProcedure(readModels: ReadModels) {
  return userProcedure.input(workerIdInputSchema).use(({ ctx, input, next }) => {
    const parsed = parseWorkerId(input.workerId);
    if (!parsed || parsed.organizationId !== ctx.caller.organizationId) throw workerNotFound();
    const worker = readModels.worker(input.workerId);
    if (!worker || worker.deleted_at !== null || worker.organization_id !== ctx.caller.organizationId) throw workerNotFound();
    if (worker.user_id !== ctx.caller.userId) {
      throw new TRPCError({ code: 'FORBIDDEN', message: "Only the worker's creator may do this" });
    }
    return next({ ctx: { worker } });
  });
}
