import type { IncomingMessage } from 'node:http';
import { hashApiKey, isPortalCredential } from '@handinger-webhooks/commands';
import type { ReadModels } from '@handinger-webhooks/projections';
import { resolvePortalCaller, type PortalCaller } from './portal-caller.js';

/** Who is calling, resolved from the API key. Service keys belong to no organization (SPEC §2). */
export type Caller =
  | { role: 'user'; keyId: string; organizationId: string; userId: string }
  | { role: 'service'; keyId: string }
  | PortalCaller;

/** Which surface a request came through (for logs). */
export type Surface = 'rest' | 'trpc';

export interface Context {
  /** Whether an `Authorization: Bearer` header was present, for a precise 401 message. */
  keyPresented: boolean;
  /**
   * The caller, or `null` when no key was presented or the key is unknown
   * or revoked. Resolved on first use and remembered for this request only
   * (a tRPC batch shares it); lazy so that creating the context cannot fail
   * and a failing lookup surfaces inside a procedure, as a logged 500.
   */
  authenticate(): Promise<Caller | null>;
  /** `http://<Host header>`, the base of links the API hands out when no public URL is configured (`null` without a Host). */
  requestOrigin: string | null;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The key of an `Authorization: Bearer <key>` header, or `null`. */
export function bearerKey(authorization: string | undefined): string | null {
  const match = authorization === undefined ? null : BEARER.exec(authorization);
  return match ? match[1]! : null;
}

/**
 * The caller a key stands for, or `null` for an unknown or revoked key.
 * Looked up on every request, never cached: a key revoked by the CLI in
 * another process is refused on the very next request (SPEC §2).
 */
export async function resolveCaller(readModels: ReadModels, key: string): Promise<Caller | null> {
  if (isPortalCredential(key)) return resolvePortalCaller(readModels, key, new Date());
  const row = await readModels.apiKeyByHash(hashApiKey(key));
  if (!row || row.revoked_at !== null) return null;
  if (row.role === 'service') return { role: 'service', keyId: row.id };
  if (row.organization_id === null || row.user_id === null) return null;
  return { role: 'user', keyId: row.id, organizationId: row.organization_id, userId: row.user_id };
}

/** `createContext` for both surfaces: what every procedure knows about the request. */
export function createContextFactory(readModels: ReadModels) {
  return ({ req }: { req: IncomingMessage }): Context => {
    const key = bearerKey(req.headers.authorization);
    let caller: Promise<Caller | null> | undefined;
    return {
      keyPresented: key !== null,
      requestOrigin: req.headers.host ? `http://${req.headers.host}` : null,
      authenticate: () => (caller ??= key === null ? Promise.resolve(null) : resolveCaller(readModels, key)),
    };
  };
}
