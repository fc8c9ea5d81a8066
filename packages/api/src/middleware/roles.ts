import { TRPCError } from '@trpc/server';
import type { Caller, Context } from '../context.js';
import { requireCaller } from './authed.js';
import { publicProcedure } from './map-errors.js';

type Role = Caller['role'];
export type CallerWithRole<R extends Role> = Extract<Caller, { role: R }>;

/**
 * User keys only for workers and webhooks; service keys only for task
 * completions (SPEC §2). A key of the wrong role is refused with 403, not
 * 404: it is a valid credential without the right to this operation, and
 * answering 403 tells an operator who wired the wrong key exactly that,
 * while revealing nothing about any worker (the check runs before any
 * lookup).
 */
const ROLE_REFUSALS: Record<Role, string> = {
  user: 'This operation needs a user API key; service keys may only record task completions',
  service: 'This operation needs a service API key',
  portal: 'This operation needs a portal link',
};

/** A portal link used on a route it does not grant (SPEC §9.1). */
export const PORTAL_REFUSAL = "A portal link grants its worker's webhook routes only";

/** The request's caller if it has `role`: 401 without a valid key (`requireCaller`), 403 with a key of the other role. */
export async function requireRole<R extends Role>(ctx: Context, role: R): Promise<CallerWithRole<R>> {
  const caller = await requireCaller(ctx);
  if (caller.role === 'portal' && role !== 'portal') throw new TRPCError({ code: 'FORBIDDEN', message: PORTAL_REFUSAL });
  if (caller.role !== role) throw new TRPCError({ code: 'FORBIDDEN', message: ROLE_REFUSALS[role] });
  return caller as CallerWithRole<R>;
}

/** User keys only; adds `ctx.caller`. */
export const userProcedure = publicProcedure.use(async ({ ctx, next }) => next({ ctx: { caller: await requireRole(ctx, 'user') } }));

/** Service keys only (the task runner); adds `ctx.caller`. */
export const serviceProcedure = publicProcedure.use(async ({ ctx, next }) => next({ ctx: { caller: await requireRole(ctx, 'service') } }));
