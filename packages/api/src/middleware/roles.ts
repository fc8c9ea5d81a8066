import { TRPCError } from '@trpc/server';
import { authedProcedure } from './authed.js';

/**
 * User keys only. A service key (the task runner's) is refused with 403, not
 * 404: it is a valid credential without the right to manage workers, and
 * answering 403 tells an operator who wired the wrong key exactly that,
 * while revealing nothing about any worker (the check runs before any
 * lookup).
 */
export const userProcedure = authedProcedure.use(({ ctx, next }) => {
  const caller = ctx.caller;
  if (caller.role !== 'user') {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'This operation needs a user API key; service keys may only record task completions' });
  }
  return next({ ctx: { caller } });
});

/** Service keys only (the task runner); a user key gets 403 (SPEC §2). */
export const serviceProcedure = authedProcedure.use(({ ctx, next }) => {
  const caller = ctx.caller;
  if (caller.role !== 'service') {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'This operation needs a service API key' });
  }
  return next({ ctx: { caller } });
});
