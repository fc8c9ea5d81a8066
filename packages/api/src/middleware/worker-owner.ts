import { parseWorkerId, workerIdInputSchema } from '@handinger-webhooks/contracts';
import type { ReadModels, WorkerRow } from '@handinger-webhooks/projections';
import { TRPCError } from '@trpc/server';
import type { z } from 'zod';
import { publicProcedure } from './map-errors.js';
import { requireRole, type CallerWithRole } from './roles.js';

export const workerNotFound = () => new TRPCError({ code: 'NOT_FOUND', message: 'Worker not found' });

/**
 * The worker `workerId` names, if `caller` created it. A malformed id, a
 * worker of another organization, a deleted or unknown worker are all the
 * same 404, so nothing reveals that a worker exists; a member of the same
 * organization who did not create it gets 403. The organization is read
 * from the id first, so another organization's ids are refused without a
 * lookup.
 */
export async function ownedWorker(readModels: ReadModels, caller: CallerWithRole<'user'>, workerId: string): Promise<WorkerRow> {
  const parsed = parseWorkerId(workerId);
  if (!parsed || parsed.organizationId !== caller.organizationId) throw workerNotFound();
  const worker = await readModels.worker(workerId);
  if (!worker || worker.deleted_at !== null || worker.organization_id !== caller.organizationId) throw workerNotFound();
  if (worker.user_id !== caller.userId) {
    throw new TRPCError({ code: 'FORBIDDEN', message: "Only the worker's creator may do this" });
  }
  return worker;
}

/** Parses like a procedure's input parser, failing the same way (a 400 whose message `errors.ts` derives from the issues). */
export function parseInput<T>(schema: z.ZodType<T>, rawInput: unknown): T {
  const result = schema.safeParse(rawInput);
  if (!result.success) throw new TRPCError({ code: 'BAD_REQUEST', cause: result.error });
  return result.data;
}

/**
 * Procedures on one worker, for its creator only (SPEC §2). One middleware
 * narrows the context once, adding `ctx.caller` (a user) and `ctx.worker`,
 * after checking in this order: a valid key (401), a user key (403), a
 * string `workerId` in the input (400), and `ownedWorker` (404, 403). It
 * runs before the procedure's input parser, so a caller without access
 * learns nothing from the rest of its input's validation. Each procedure
 * built on it declares its whole input, `workerId` included
 * (`workerIdInputSchema` or a schema extending it), which is also where
 * the REST path parameter `{workerId}` comes from.
 */
export function workerOwnerProcedure(readModels: ReadModels) {
  return publicProcedure.use(async ({ ctx, getRawInput, next }) => {
    const caller = await requireRole(ctx, 'user');
    const { workerId } = parseInput(workerIdInputSchema, await getRawInput());
    return next({ ctx: { caller, worker: await ownedWorker(readModels, caller, workerId) } });
  });
}
