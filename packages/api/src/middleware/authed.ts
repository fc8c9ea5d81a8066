import { TRPCError } from '@trpc/server';
import type { Caller, Context } from '../context.js';

/**
 * The request's caller: 401 unless it carries a valid, unrevoked API key.
 * Not a middleware of its own: the role and worker-owner middlewares call
 * it first, so each request is narrowed to its caller in one step.
 */
export async function requireCaller(ctx: Context): Promise<Caller> {
  const caller = await ctx.authenticate();
  if (caller === null) {
    throw new TRPCError({
      code: 'UNAUTHORIZED',
      message: ctx.keyPresented ? 'Invalid or revoked API key' : 'Missing API key: send Authorization: Bearer <key>',
    });
  }
  return caller;
}
