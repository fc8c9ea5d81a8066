import { workerIdInputSchema } from '@handinger-webhooks/contracts';
import type { ReadModels } from '@handinger-webhooks/projections';
import { TRPCError } from '@trpc/server';
import type { PortalCaller } from '../portal-caller.js';
import { requireCaller } from './authed.js';
import { publicProcedure } from './map-errors.js';
import { requireRole, type CallerWithRole } from './roles.js';
import { ownedWorker, parseInput, workerNotFound } from './worker-owner.js';

/**
 * What a portal link may do on `workers.webhooks.*` (SPEC §9.1), by
 * procedure name. Read-only links read the webhook (without its secrets)
 * and the log; the others may also operate the webhook. Setting or removing
 * the URL and creating portal links stay with the creator, and so does any
 * procedure not named here: a new procedure is closed to portal links until
 * it is listed.
 */
export const PORTAL_READS: ReadonlySet<string> = new Set(['retrieve', 'listExecutions', 'getExecution', 'getRecovery']);
export const PORTAL_OPERATIONS: ReadonlySet<string> = new Set(['regenerateToken', 'sendTest', 'redeliver', 'recover', 'disable', 'enable']);

/** Whether a portal link may call the procedure `name` of `workers.webhooks`. */
export const portalMay = (caller: PortalCaller, name: string): boolean =>
  PORTAL_READS.has(name) || (!caller.readOnly && PORTAL_OPERATIONS.has(name));

/** A read-only portal link never sees the webhook's token or signing secret: they are `null` in what it reads. */
function withoutSecrets(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  return 'signingSecret' in data || 'token' in data ? { ...data, token: null, signingSecret: null } : data;
}

/**
 * Procedures on one worker's webhook: its creator, as `workerOwnerProcedure`
 * (SPEC §2), or the holder of a portal link for that worker (SPEC §9.1),
 * within what `portalMay` allows (403 otherwise). A link for another worker
 * gets the same 404 as an unknown worker. Adds `ctx.caller` and `ctx.worker`.
 */
export function webhookAccessProcedure(readModels: ReadModels) {
  return publicProcedure.use(async ({ ctx, path, getRawInput, next }) => {
    const caller = await requireCaller(ctx);
    if (caller.role !== 'portal') {
      const user = await requireRole(ctx, 'user');
      const { workerId } = parseInput(workerIdInputSchema, await getRawInput());
      return next({ ctx: { caller: user as CallerWithRole<'user'> | PortalCaller, worker: await ownedWorker(readModels, user, workerId) } });
    }
    const { workerId } = parseInput(workerIdInputSchema, await getRawInput());
    const worker = workerId === caller.workerId ? await readModels.worker(workerId) : undefined;
    if (!worker || worker.deleted_at !== null) throw workerNotFound();
    const name = path.slice(path.lastIndexOf('.') + 1);
    if (!portalMay(caller, name)) {
      throw new TRPCError({ code: 'FORBIDDEN', message: caller.readOnly ? 'This portal link is read-only' : "A portal link may not do this: ask the worker's creator" });
    }
    const result = await next({ ctx: { caller: caller as CallerWithRole<'user'> | PortalCaller, worker } });
    return caller.readOnly && result.ok ? { ...result, data: withoutSecrets(result.data) } : result;
  });
}
