import { hashApiKey } from '@handinger-webhooks/commands';
import type { ReadModels } from '@handinger-webhooks/projections';

/**
 * A portal link's holder (SPEC §9.1): granted one worker's webhook routes,
 * read-only unless the link was created otherwise. `keyId` is the session's
 * id, recorded as the actor of what it does, as a key's id is.
 */
export interface PortalCaller {
  role: 'portal';
  keyId: string;
  workerId: string;
  readOnly: boolean;
  expiresAt: string;
}

/**
 * The holder of a portal credential, or `null` when the link is unknown, has
 * expired (decided against `now`, the request's time), or no longer belongs
 * to a live webhook: the worker was deleted, or the webhook removed (its
 * sessions are dropped then) or set again since (a new generation, which no
 * earlier session belongs to). Looked up on every request, never cached.
 */
export async function resolvePortalCaller(readModels: ReadModels, credential: string, now: Date): Promise<PortalCaller | null> {
  const session = await readModels.portalSessionByHash(hashApiKey(credential));
  if (!session || Date.parse(session.expires_at) <= now.getTime()) return null;
  const [worker, webhook] = await Promise.all([readModels.worker(session.worker_id), readModels.webhook(session.worker_id)]);
  if (!worker || worker.deleted_at !== null || !webhook || webhook.generation !== session.generation) return null;
  return { role: 'portal', keyId: session.id, workerId: session.worker_id, readOnly: session.read_only === 1, expiresAt: session.expires_at };
}
