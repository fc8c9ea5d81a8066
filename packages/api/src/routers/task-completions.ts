import { taskCompletionAcceptedSchema, taskCompletionInputSchema } from '@handinger-webhooks/contracts';
import { serviceProcedure } from '../middleware/roles.js';
import type { ApiServices } from '../options.js';
import { router } from '../trpc.js';
import { actorOf } from './actor.js';

/** `taskCompletions.record`: the task runner reports a finished task (service keys only). */
export function createTaskCompletionsRouter({ app }: ApiServices) {
  return router({
    record: serviceProcedure
      .meta({
        openapi: {
          method: 'POST',
          path: '/api/task-completions',
          tags: ['Task completions'],
          operationId: 'recordTaskCompletion',
          summary: 'Record a finished task (idempotent per taskId); its webhook, if any, is notified',
          successDescription: 'Accepted; `duplicate` is true when this taskId was already recorded',
          errorResponses: {
            400: 'Invalid body',
            401: 'Missing, invalid or revoked API key',
            403: 'Not a service key',
            404: 'Unknown or deleted worker; nothing is recorded',
            409: 'This taskId was recorded for another worker',
            413: 'Body over 1 MiB',
          },
        },
        successStatus: 202,
      })
      .input(taskCompletionInputSchema)
      .output(taskCompletionAcceptedSchema)
      .mutation(async ({ ctx, input }) => {
        const { duplicate } = await app.commands.recordTaskCompletion(input, actorOf(ctx.caller));
        return { accepted: true as const, duplicate };
      }),
  });
}
