import { executionDetail } from '@handinger-webhooks/commands';
import {
  acceptedSchema,
  recoverySchema,
  webhookExecutionDetailSchema,
  webhookExecutionListSchema,
  webhookSchema,
  webhookTestResultSchema,
  webhookUrlProblem,
  workerIdInputSchema,
} from '@handinger-webhooks/contracts';
import { TRPCError } from '@trpc/server';
import { executionInput, listExecutionsInput, recoverInput, recoveryInput, regenerateTokenInput, sendTestInput, updateWebhookInput } from '../inputs.js';
import { webhookAccessProcedure } from '../middleware/webhook-access.js';
import type { ApiServices } from '../options.js';
import { toRecovery, toWebhook } from '../shapes.js';
import { router } from '../trpc.js';
import { actorOf } from './actor.js';

const tags = ['Webhooks'];
const ownerErrors = { 401: 'Missing, invalid or revoked API key', 403: 'Not the worker’s creator, or not a user key', 404: 'No such worker' };

const noWebhook = { 409: 'No webhook is configured' };

/** `workers.webhooks.*`: a worker's one outbound webhook, its execution log (SPEC §3) and its operations (SPEC §8). */
export function createWebhooksRouter({ app, urlPolicy, webhookTester }: ApiServices) {
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
          description: 'With `gracePeriodSeconds`, the previous signing secret keeps signing beside the new one for that long (two signatures in `webhook-signature`).',
          errorResponses: { 400: 'gracePeriodSeconds is not an integer 0..604800', ...ownerErrors, ...noWebhook },
        },
      })
      .input(regenerateTokenInput)
      .output(webhookSchema)
      .mutation(async ({ ctx, input }) => toWebhook(await app.commands.rotateToken(ctx.worker.id, input.gracePeriodSeconds ?? 0, actorOf(ctx.caller)), app.secretBox)),

    sendTest: ownerProcedure
      .meta({
        openapi: {
          method: 'POST',
          path: '/api/workers/{workerId}/webhook/test',
          tags,
          operationId: 'sendWebhookTest',
          summary: 'Send a test notification now, and optionally check that the receiver rejects a forged signature',
          errorResponses: { 400: 'Invalid body', ...ownerErrors, ...noWebhook, 503: 'Test sends are not available on this node, or the receiver is at its concurrency cap' },
        },
      })
      .input(sendTestInput)
      .output(webhookTestResultSchema)
      .mutation(async ({ ctx, input }) => {
        if (webhookTester === null) throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'test sends are not available on this node' });
        return webhookTester.test(ctx.worker.id, { checkSignatureVerification: input.checkSignatureVerification ?? false });
      }),

    redeliver: ownerProcedure
      .meta({
        openapi: {
          method: 'POST',
          path: '/api/workers/{workerId}/webhook/executions/{executionId}/redeliver',
          tags,
          operationId: 'redeliverWebhookExecution',
          summary: "Send an execution's notification once more (same webhook-id and body, current URL and secrets)",
          errorResponses: { ...ownerErrors, 404: 'No such worker, or no such execution of it', ...noWebhook },
        },
        successStatus: 202,
      })
      .input(executionInput)
      .output(acceptedSchema)
      .mutation(async ({ ctx, input }) => {
        await app.commands.redeliver(ctx.worker.id, input.executionId, actorOf(ctx.caller));
        return { accepted: true as const };
      }),

    recover: ownerProcedure
      .meta({
        openapi: {
          method: 'POST',
          path: '/api/workers/{workerId}/webhook/recover',
          tags,
          operationId: 'recoverWebhookNotifications',
          summary: 'Send once more every notification first attempted in [since, until) that ended in failure',
          description: 'With `dryRun: true`, answers 200 with the count and sends nothing; otherwise 202 with the recovery, whose progress `getRecovery` shows.',
          errorResponses: { 400: 'since/until invalid (since < until ≤ now)', ...ownerErrors, 409: 'No webhook is configured, or it is disabled' },
        },
        successStatus: 202,
        statusOf: (output) => ((output as { status: string }).status === 'dry-run' ? 200 : 202),
      })
      .input(recoverInput)
      .output(recoverySchema)
      .mutation(async ({ ctx, input }) => {
        const view = await app.commands.startRecovery(ctx.worker.id, { since: input.since, ...(input.until ? { until: input.until } : {}), ...(input.dryRun ? { dryRun: true } : {}) }, actorOf(ctx.caller));
        return toRecovery(view);
      }),

    getRecovery: ownerProcedure
      .meta({
        openapi: { method: 'GET', path: '/api/workers/{workerId}/webhook/recoveries/{recoveryId}', tags, operationId: 'getWebhookRecovery', summary: "A recovery's progress", errorResponses: { ...ownerErrors, 404: 'No such worker, or no such recovery of it' } },
      })
      .input(recoveryInput)
      .output(recoverySchema)
      .query(async ({ ctx, input }) => {
        const row = await app.readModels.recovery(input.recoveryId);
        if (row === undefined || row.worker_id !== ctx.worker.id) throw new TRPCError({ code: 'NOT_FOUND', message: `recovery ${input.recoveryId} not found` });
        return toRecovery({ row, since: row.since, until: row.until, total: Number(row.total) });
      }),

    disable: ownerProcedure
      .meta({
        openapi: { method: 'POST', path: '/api/workers/{workerId}/webhook/disable', tags, operationId: 'disableWebhook', summary: 'Stop sending; notifications are held until enabled', errorResponses: { ...ownerErrors, ...noWebhook } },
      })
      .input(workerIdInputSchema)
      .output(webhookSchema)
      .mutation(async ({ ctx }) => toWebhook(await app.commands.disableWebhook(ctx.worker.id, actorOf(ctx.caller)), app.secretBox)),

    enable: ownerProcedure
      .meta({
        openapi: { method: 'POST', path: '/api/workers/{workerId}/webhook/enable', tags, operationId: 'enableWebhook', summary: 'Send again, held notifications first (oldest first)', errorResponses: { ...ownerErrors, ...noWebhook } },
      })
      .input(workerIdInputSchema)
      .output(webhookSchema)
      .mutation(async ({ ctx }) => toWebhook(await app.commands.enableWebhook(ctx.worker.id, actorOf(ctx.caller)), app.secretBox)),

    getExecution: ownerProcedure
      .meta({
        openapi: {
          method: 'GET',
          path: '/api/workers/{workerId}/webhook/executions/{executionId}',
          tags,
          operationId: 'getWebhookExecution',
          summary: 'One execution with the request that was sent (secret headers redacted)',
          errorResponses: { ...ownerErrors, 404: 'No such worker, or no such execution of it' },
        },
      })
      .input(executionInput)
      .output(webhookExecutionDetailSchema)
      .query(async ({ ctx, input }) => {
        const detail = await executionDetail(app.readModels, app.log, ctx.worker.id, input.executionId);
        if (detail === undefined) throw new TRPCError({ code: 'NOT_FOUND', message: `execution ${input.executionId} not found` });
        return detail;
      }),

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
