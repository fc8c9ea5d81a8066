import { listExecutionsInputSchema, pageSchema, recoverSchema, regenerateTokenSchema, sendTestSchema, updateWebhookSchema, workerIdInputSchema } from '@handinger-webhooks/contracts';
import { z } from 'zod';

const DECIMAL = /^[0-9]+$/;

/**
 * `page` as both surfaces receive it: a number over tRPC, a query string
 * over REST. Only plain decimal digits are read as a number (`1e1`, `0x10`,
 * ` 2`, `true` are not), then the contract's `pageSchema` decides, and any
 * failure is the one message SPEC §3 names: `page: must be an integer ≥ 1`.
 *
 * A preprocess wrapper rather than the bare `pageSchema` also keeps
 * trpc-to-openapi from switching on `coerce` in the shared contract schema,
 * which it does in place for every number in an input object.
 */
export const pageParam = z.preprocess((value, ctx) => {
  const candidate = typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value;
  if (!pageSchema.safeParse(candidate).success) {
    ctx.addIssue({ code: 'custom', message: `must be an integer ≥ ${pageSchema.minValue ?? 1}`, input: value });
  }
  return candidate;
}, pageSchema);

/** `listExecutions` input: the contract's, with `page` read as above. */
export const listExecutionsInput = listExecutionsInputSchema.extend({ page: pageParam.optional() });

/** `workers.list` input: an optional page, read as above. */
export const listWorkersInput = z.object({ page: pageParam.optional() });

/** `workers.webhooks.update` input: the worker (a REST path parameter) and the contract's body. */
export const updateWebhookInput = workerIdInputSchema.extend(updateWebhookSchema.shape);

/** `regenerateToken`: an optional overlap window (SPEC §8.1). */
export const regenerateTokenInput = workerIdInputSchema.extend(regenerateTokenSchema.shape);
export const sendTestInput = workerIdInputSchema.extend(sendTestSchema.shape);
export const recoverInput = workerIdInputSchema.extend(recoverSchema.shape);
/** An execution of the worker (a REST path parameter). */
export const executionInput = workerIdInputSchema.extend({ executionId: z.string().min(1).max(200) });
export const recoveryInput = workerIdInputSchema.extend({ recoveryId: z.string().min(1).max(200) });
