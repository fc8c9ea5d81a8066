import { webhookExecutionListSchema, webhookSchema, webhookUrlProblem, workerIdInputSchema } from '@handinger-webhooks/contracts';
import { TRPCError } from '@trpc/server';
import { listExecutionsInput, updateWebhookInput } from '../inputs.js';
import { webhookAccessProcedure } from '../middleware/webhook-access.js';
import type { ApiServices } from '../options.js';
import { toWebhook } from '../shapes.js';
import { router } from '../trpc.js';
import { actorOf } from './actor.js';

const tags = ['Webhooks'];
const ownerErrors = { 401: 'Missing, invalid or revoked API key', 403: 'Not the worker’s creator, or not a user key', 404: 'No such worker' };

/** `workers.webhooks.*`: a worker's one outbound webhook and its execution log (SPEC §3). */
export function createWebhooksRouter({ app, urlPolicy }: ApiServices) {
  // The creator (SPEC §2), or a portal link within what it grants (SPEC §9.1, middleware/webhook-access.ts).
  const ownerProcedure = webhookAccessProcedure(app.readModels);

  return router({
    retrieve: ownerProcedure
      .meta({
        openapi: { method: 'GET', path: '/api/workers/{workerId}/webhook', tags, operationId: 'retrieveWebhook', summary: "Get a worker's webhook", errorResponses: ownerErrors },
      })
      .input(workerIdInputSchema)
      .output(webhookSchema)
      .query(async ({ ctx }) => toWebhook(await app.readModels.webhook(ctx.worker.id), app.secretBox)),

    update: ownerProcedure
      .meta({
        openapi: {
          method: 'PUT',
          path: '/api/workers/{workerId}/webhook',
          tags,
          operationId: 'updateWebhook',
          summary: "Set or remove a worker's webhook URL",
          description: 'A fresh token and signing secret are generated when a URL is first set (also after a removal); later updates keep them. `url: null` removes the webhook.',
          errorResponses: { 400: 'Invalid URL or body', ...ownerErrors, 413: 'Body over 1 MiB' },
        },
      })
      .input(updateWebhookInput)
      .output(webhookSchema)
      .mutation(async ({ ctx, input }) => {
        const problem = input.url === null ? null : webhookUrlProblem(input.url, urlPolicy);
        if (problem !== null) throw new TRPCError({ code: 'BAD_REQUEST', message: `url: ${problem}` });
        return toWebhook(await app.commands.setWebhook(ctx.worker.id, input.url, actorOf(ctx.caller)), app.secretBox);
      }),

    delete: ownerProcedure
      .meta({
        openapi: { method: 'DELETE', path: '/api/workers/{workerId}/webhook', tags, operationId: 'deleteWebhook', summary: "Remove a worker's webhook; pending deliveries are dropped", errorResponses: ownerErrors },
      })
      .input(workerIdInputSchema)
      .output(webhookSchema)
      .mutation(async ({ ctx }) => {
        await app.commands.deleteWebhook(ctx.worker.id, actorOf(ctx.caller));
        return toWebhook(undefined, app.secretBox);
      }),

    regenerateToken: ownerProcedure
      .meta({
        openapi: {
          method: 'POST',
          path: '/api/workers/{workerId}/webhook/regenerate-token',
          tags,
          operationId: 'regenerateWebhookToken',
          summary: 'Replace the token and signing secret, keeping the URL',
          errorResponses: { ...ownerErrors, 409: 'No webhook is configured' },
        },
      })
      .input(workerIdInputSchema)
      .output(webhookSchema)
      .mutation(async ({ ctx }) => toWebhook(await app.commands.rotateToken(ctx.worker.id, actorOf(ctx.caller)), app.secretBox)),

    listExecutions: ownerProcedure
      .meta({
        openapi: {
          method: 'GET',
          path: '/api/workers/{workerId}/webhook/executions',
          tags,
          operationId: 'listWebhookExecutions',
          summary: 'Delivery attempts, newest first, 50 per page',
          errorResponses: { 400: 'page is not an integer ≥ 1', ...ownerErrors },
        },
      })
      .input(listExecutionsInput)
      .output(webhookExecutionListSchema)
      .query(({ ctx, input }) => app.readModels.executionsPage(ctx.worker.id, input.page ?? 1)),
  });
}
