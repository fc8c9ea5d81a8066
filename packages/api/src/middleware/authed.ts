import { TRPCError } from '@trpc/server';
import { middleware } from '../trpc.js';
import { publicProcedure } from './map-errors.js';

/** 401 unless the request carries a valid, unrevoked API key; adds `ctx.caller`. */
const requireApiKey = middleware(({ ctx, next }) => {
  const caller = ctx.authenticate();
  if (caller === null) {
    throw new TRPCError({
      code: 'UNAUTHORIZED',
      message: ctx.keyPresented ? 'Invalid or revoked API key' : 'Missing API key: send Authorization: Bearer <key>',
    });
  }
  return next({ ctx: { caller } });
});

/** Any valid API key, user or service. */
export const authedProcedure = publicProcedure.use(requireApiKey);
