import { z } from 'zod';

/** Portal links (SPEC §9.1): how long one may live, in seconds. */
export const PORTAL_SESSION_LIFETIME = { min: 60, max: 86_400, default: 900 } as const;

/** The body of `POST …/webhook/portal-sessions`. */
export const createPortalSessionSchema = z.object({
  expiresInSeconds: z.number().int().min(PORTAL_SESSION_LIFETIME.min).max(PORTAL_SESSION_LIFETIME.max).optional(),
  readOnly: z.boolean().optional(),
});
export type CreatePortalSessionInput = z.infer<typeof createPortalSessionSchema>;

/** A new portal link: the console's portal view with the credential in the fragment, and when it stops working. */
export const portalSessionSchema = z.object({ url: z.string(), expiresAt: z.string() });
export type PortalSession = z.infer<typeof portalSessionSchema>;

/** The console's path for portal views; the server frames it only for `HANDINGER_PORTAL_FRAME_ANCESTORS`. */
export const PORTAL_PATH = '/console/portal';
