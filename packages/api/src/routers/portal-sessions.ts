import { PORTAL_PATH, PORTAL_SESSION_LIFETIME, createPortalSessionSchema, portalSessionSchema, workerIdInputSchema } from '@handinger-webhooks/contracts';
import { workerOwnerProcedure } from '../middleware/worker-owner.js';
import type { ApiServices } from '../options.js';
import { actorOf } from './actor.js';

const createPortalSessionInput = workerIdInputSchema.extend(createPortalSessionSchema.shape);

/**
 * The portal link of a console view (SPEC §9.1): the credential rides in the
 * fragment, which browsers never send to a server, beside the worker's id
 * (the page needs it, and it is no secret): `…/console/portal#worker=…&key=…`.
 */
export function portalUrl(base: string, workerId: string, credential: string): string {
  return `${base.replace(/\/+$/, '')}${PORTAL_PATH}#${new URLSearchParams({ worker: workerId, key: credential }).toString()}`;
}

/** `workers.webhooks.createPortalSession`, spread into the webhooks router. Creator-only. */
export function portalSessionProcedures({ app, publicUrl }: ApiServices) {
  return {
    createPortalSession: workerOwnerProcedure(app.readModels)
      .meta({
        openapi: {
          method: 'POST',
          path: '/api/workers/{workerId}/webhook/portal-sessions',
          tags: ['Webhooks'],
          operationId: 'createPortalSession',
          summary: "A link to the console scoped to this worker's webhook, for someone without an API key or for an iframe",
          description: `The credential travels in the URL's fragment. \`expiresInSeconds\`: ${PORTAL_SESSION_LIFETIME.min}..${PORTAL_SESSION_LIFETIME.max}, default ${PORTAL_SESSION_LIFETIME.default}; \`readOnly\` (default true): the log and its details only, never the token or signing secret.`,
          errorResponses: {
            400: 'Invalid body',
            401: 'Missing, invalid or revoked API key',
            403: 'Not the worker’s creator, or not a user key',
            404: 'No such worker',
            409: 'No webhook is configured',
          },
        },
        successStatus: 201,
      })
      .input(createPortalSessionInput)
      .output(portalSessionSchema)
      .mutation(async ({ ctx, input }) => {
        const created = await app.portalSessions.create(
          ctx.worker.id,
          { expiresInSeconds: input.expiresInSeconds ?? PORTAL_SESSION_LIFETIME.default, readOnly: input.readOnly ?? true },
          actorOf(ctx.caller),
        );
        const base = publicUrl ?? ctx.requestOrigin ?? '';
        return { url: portalUrl(base, ctx.worker.id, created.credential), expiresAt: created.expiresAt };
      }),
  };
}
