import { createWorkerInputSchema, deletedWorkerSchema, workerIdInputSchema, workerTemplateListSchema, workerTemplateSchema } from '@handinger-webhooks/contracts';
import { listWorkersInput } from '../inputs.js';
import { userProcedure } from '../middleware/roles.js';
import { workerOwnerProcedure } from '../middleware/worker-owner.js';
import type { ApiServices } from '../options.js';
import { toWorkerTemplate } from '../shapes.js';
import { mergeRouters, router } from '../trpc.js';
import { actorOf } from './actor.js';
import { portalSessionProcedures } from './portal-sessions.js';
import { createWebhooksRouter } from './webhooks.js';

const tags = ['Workers'];

/** `workers.*`: create and delete workers; `workers.webhooks.*` nests beneath. */
export function createWorkersRouter(services: ApiServices) {
  const { app, dashboardUrl } = services;

  return router({
    create: userProcedure
      .meta({
        openapi: {
          method: 'POST',
          path: '/api/workers',
          tags,
          operationId: 'createWorker',
          summary: 'Create a worker; the caller is its creator',
          errorResponses: { 400: 'Invalid body', 401: 'Missing, invalid or revoked API key', 403: 'Not a user key', 413: 'Body over 1 MiB' },
        },
      })
      .input(createWorkerInputSchema)
      .output(workerTemplateSchema)
      .mutation(async ({ ctx, input }) => {
        const owner = { organizationId: ctx.caller.organizationId, userId: ctx.caller.userId };
        return toWorkerTemplate(await app.commands.createWorker(owner, input, actorOf(ctx.caller)), dashboardUrl);
      }),

    list: userProcedure
      .meta({
        openapi: {
          method: 'GET',
          path: '/api/workers',
          tags,
          operationId: 'listWorkers',
          summary: 'The workers the caller created, newest first, 50 per page',
          errorResponses: { 400: 'page is not an integer ≥ 1', 401: 'Missing, invalid or revoked API key', 403: 'Not a user key' },
        },
      })
      .input(listWorkersInput)
      .output(workerTemplateListSchema)
      .query(async ({ ctx, input }) => {
        const owner = { organizationId: ctx.caller.organizationId, userId: ctx.caller.userId };
        const { rows, ...counts } = await app.readModels.workersPage(owner, input.page ?? 1);
        return { workers: rows.map((row) => toWorkerTemplate(row, dashboardUrl)), ...counts };
      }),

    delete: workerOwnerProcedure(app.readModels)
      .meta({
        openapi: {
          method: 'DELETE',
          path: '/api/workers/{workerId}',
          tags,
          operationId: 'deleteWorker',
          summary: 'Delete a worker; its webhook is removed and pending deliveries are dropped',
          errorResponses: { 401: 'Missing, invalid or revoked API key', 403: 'Not the worker’s creator, or not a user key', 404: 'No such worker' },
        },
      })
      .input(workerIdInputSchema)
      .output(deletedWorkerSchema)
      .mutation(async ({ ctx }) => {
        await app.commands.deleteWorker(ctx.worker.id, actorOf(ctx.caller));
        return { deleted: true as const };
      }),

    // Portal links live in their own file (SPEC §9.1), under the same `workers.webhooks` namespace.
    webhooks: mergeRouters(createWebhooksRouter(services), router(portalSessionProcedures(services))),
  });
}
